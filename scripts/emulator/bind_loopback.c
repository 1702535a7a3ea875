/*
 * LD_PRELOAD shim: turns a wildcard bind() into a loopback bind() so that
 * DynamoDB Local (which binds 0.0.0.0 / :: with no host option) and anything
 * else started under LocalStack listens on loopback only.
 *   0.0.0.0 -> 127.0.0.1     :: -> ::1
 * Every other address is passed through unchanged.
 * Build: gcc -shared -fPIC -O2 -o bind_loopback.so bind_loopback.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn real_bind;
    if (!real_bind && !(real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind"))) {
        errno = ENOSYS;
        return -1;
    }
    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in a4;
        memcpy(&a4, addr, sizeof a4);
        if (a4.sin_addr.s_addr == htonl(INADDR_ANY)) {
            a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&a4, sizeof a4);
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a6;
        memcpy(&a6, addr, sizeof a6);
        if (IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr)) {
            a6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&a6, sizeof a6);
        }
    }
    return real_bind(fd, addr, len);
}
