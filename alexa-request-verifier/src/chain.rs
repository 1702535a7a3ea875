//! The downloaded chain: parsed, checked (dates, name, path to a trusted root) and kept as the
//! signing certificate that verifies `Signature-256`.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::SIGNING_CERT_SAN;
use crate::error::VerifyError;

/// A signing certificate whose chain was validated.
#[derive(Debug)]
pub(crate) struct SigningCert {
    der: CertificateDer<'static>,
    /// The earliest `notAfter` in the chain, in seconds since the Unix epoch: the cache keeps
    /// the certificate until then.
    pub(crate) expires_at: i64,
}

impl SigningCert {
    #[cfg(test)]
    pub(crate) fn for_tests(expires_at: i64) -> Self {
        Self {
            der: CertificateDer::from(Vec::new()),
            expires_at,
        }
    }

    /// Checks that `signature` is this certificate's RSA PKCS#1 v1.5 SHA-256 signature of `body`.
    pub(crate) fn verify_signature(
        &self,
        body: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let cert = EndEntityCert::try_from(&self.der).map_err(|_| VerifyError::InvalidChain {
            reason: "the signing certificate cannot be parsed",
        })?;
        cert.verify_signature(
            webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
            body,
            signature,
        )
        .map_err(|_| VerifyError::SignatureMismatch)
    }
}

/// Parses the PEM chain (signing certificate first, then intermediates) and checks it at
/// `now`: the signing certificate's validity dates, `echo-api.amazon.com` among its subject
/// alternative names, and a path to one of `anchors` through the intermediates (webpki:
/// signatures, validity of every certificate, basic constraints, key usage).
pub(crate) fn validate(
    pem: &[u8],
    anchors: &[TrustAnchor<'static>],
    algorithms: &[&dyn SignatureVerificationAlgorithm],
    now: UnixTime,
) -> Result<SigningCert, VerifyError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| VerifyError::InvalidChain {
            reason: "not a sequence of PEM certificates",
        })?;
    let (signing, intermediates) = certs.split_first().ok_or(VerifyError::InvalidChain {
        reason: "no certificate in it",
    })?;

    let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let (_, x509) = X509Certificate::from_der(signing).map_err(|_| VerifyError::InvalidChain {
        reason: "the signing certificate cannot be parsed",
    })?;
    let not_before = x509.validity().not_before.timestamp();
    let not_after = x509.validity().not_after.timestamp();
    if now_secs < not_before {
        return Err(VerifyError::CertificateNotYetValid { not_before });
    }
    if now_secs > not_after {
        return Err(VerifyError::CertificateExpired { not_after });
    }
    let names_echo_api = matches!(x509.subject_alternative_name(), Ok(Some(san))
    if san.value.general_names.iter().any(|name| {
        matches!(name, GeneralName::DNSName(dns) if dns.eq_ignore_ascii_case(SIGNING_CERT_SAN))
    }));
    if !names_echo_api {
        return Err(VerifyError::SubjectAltName {
            expected: SIGNING_CERT_SAN,
        });
    }

    let end_entity = EndEntityCert::try_from(signing).map_err(|_| VerifyError::InvalidChain {
        reason: "the signing certificate cannot be parsed",
    })?;
    end_entity
        .verify_for_usage(
            algorithms,
            anchors,
            intermediates,
            now,
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| VerifyError::UntrustedChain {
            reason: e.to_string(),
        })?;

    let expires_at = intermediates
        .iter()
        .filter_map(|c| X509Certificate::from_der(c).ok())
        .map(|(_, c)| c.validity().not_after.timestamp())
        .fold(not_after, i64::min);
    Ok(SigningCert {
        der: signing.clone().into_owned(),
        expires_at,
    })
}
