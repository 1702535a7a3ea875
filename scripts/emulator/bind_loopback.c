/*
 * LD_PRELOAD shim: turns a wildcard bind() into a loopback bind() so that
 * DynamoDB Local (which binds the wildcard address and has no host option)
 * and anything else started under LocalStack listens on loopback only.
 *   AF_INET  0.0.0.0 -> 127.0.0.1
 *   AF_INET6 ::      -> ::1               on an IPV6_V6ONLY socket
 *   AF_INET6 ::      -> ::ffff:127.0.0.1  on a dual-stack socket (Java's default):
 *            such a socket mostly serves IPv4 clients, and LocalStack reaches
 *            DynamoDB Local via "localhost" = 127.0.0.1; with ::1 it would hang.
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
            int v6only = 0;
            socklen_t optlen = sizeof v6only;
            if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) == 0 && !v6only) {
                memset(&a6.sin6_addr, 0, sizeof a6.sin6_addr);   /* ::ffff:127.0.0.1 */
                a6.sin6_addr.s6_addr[10] = a6.sin6_addr.s6_addr[11] = 0xff;
                a6.sin6_addr.s6_addr[12] = 127;
                a6.sin6_addr.s6_addr[15] = 1;
            } else {
                a6.sin6_addr = in6addr_loopback;
            }
            return real_bind(fd, (const struct sockaddr *)&a6, sizeof a6);
        }
    }
    return real_bind(fd, addr, len);
}
