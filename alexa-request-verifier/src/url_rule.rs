//! The `SignatureCertChainUrl` rules, checked before anything is downloaded.

use url::{Host, Url};

use crate::error::CertUrlError;

/// The only host a certificate chain may come from.
pub(crate) const CHAIN_HOST: &str = "s3.amazonaws.com";
/// The path every chain URL starts with, after normalisation.
pub(crate) const CHAIN_PATH_PREFIX: &str = "/echo.api/";

/// Checks `raw` against Alexa's rules and returns the normalised URL to download.
///
/// The WHATWG parser (`url`) lower-cases the scheme and host, resolves `.` and `..` segments
/// (also written `%2e`, and with `\` as a separator), and drops the scheme's default port, so
/// the rules apply to exactly what would be fetched.
pub(crate) fn check(raw: &str) -> Result<Url, CertUrlError> {
    let mut url = Url::parse(raw.trim()).map_err(|_| CertUrlError::Invalid)?;
    if !url.scheme().eq_ignore_ascii_case("https") {
        return Err(CertUrlError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CertUrlError::UserInfo);
    }
    match url.host() {
        Some(Host::Domain(host)) if host.eq_ignore_ascii_case(CHAIN_HOST) => {}
        _ => return Err(CertUrlError::Host),
    }
    // `port()` is `None` for no port and for the default port (443) written out.
    if url.port().is_some_and(|p| p != 443) {
        return Err(CertUrlError::Port);
    }
    if !url.path().starts_with(CHAIN_PATH_PREFIX) {
        return Err(CertUrlError::Path);
    }
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazons_urls_pass_in_any_case_of_scheme_and_host() {
        for ok in [
            "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/./x/../echo-api-cert.pem",
        ] {
            let url = check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(
                url.as_str(),
                "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
                "{ok}"
            );
        }
    }

    #[test]
    fn each_rule_refuses_its_urls() {
        let cases = [
            (
                "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
                CertUrlError::Scheme,
            ),
            (
                "ftp://s3.amazonaws.com/echo.api/echo-api-cert.pem",
                CertUrlError::Scheme,
            ),
            ("file:///echo.api/echo-api-cert.pem", CertUrlError::Scheme),
            (
                "https://notamazon.com/echo.api/echo-api-cert.pem",
                CertUrlError::Host,
            ),
            (
                "https://s3.amazonaws.com.evil.com/echo.api/x.pem",
                CertUrlError::Host,
            ),
            (
                "https://evil.s3.amazonaws.com/echo.api/x.pem",
                CertUrlError::Host,
            ),
            (
                "https://s3.amazonaws.com./echo.api/x.pem",
                CertUrlError::Host,
            ),
            ("https://54.231.0.1/echo.api/x.pem", CertUrlError::Host),
            (
                "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
                CertUrlError::Path,
            ),
            (
                "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
                CertUrlError::Path,
            ),
            ("https://s3.amazonaws.com/echo.api", CertUrlError::Path),
            (
                "https://s3.amazonaws.com/echo.api/../invalid",
                CertUrlError::Path,
            ),
            (
                "https://s3.amazonaws.com/echo.api/%2e%2e/invalid",
                CertUrlError::Path,
            ),
            (
                "https://s3.amazonaws.com/echo.api\\..\\invalid",
                CertUrlError::Path,
            ),
            (
                "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
                CertUrlError::Port,
            ),
            (
                "https://s3.amazonaws.com:80/echo.api/echo-api-cert.pem",
                CertUrlError::Port,
            ),
            (
                "https://user@s3.amazonaws.com/echo.api/x.pem",
                CertUrlError::UserInfo,
            ),
            (
                "https://evil.com@s3.amazonaws.com/echo.api/x.pem",
                CertUrlError::UserInfo,
            ),
            ("not a url", CertUrlError::Invalid),
            ("/echo.api/echo-api-cert.pem", CertUrlError::Invalid),
        ];
        for (url, rule) in cases {
            assert_eq!(check(url).err(), Some(rule), "{url}");
        }
    }
}
