//! Report signatures: the SM3 hash of a report version's canonical content, signed with the
//! deployment's SM2 key (GM/T 0003-2012, distinguishing identifier `yigong-report`). The key is
//! made on first use and kept in the data directory (never in the repository); the public half
//! is published so that anyone holding a report can check it. Personal certificates from a CA
//! (每位医师的数字证书) would replace the deployment key without changing what is stored.

use std::path::Path;

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm3::{Digest, Sm3};

const DIST_ID: &str = "yigong-report";

/// The deployment's signing key.
pub struct ReportSigner {
    key: SigningKey,
}

impl std::fmt::Debug for ReportSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReportSigner(…)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// SM3 of `content`, hex.
pub fn content_hash(content: &str) -> String {
    hex(&Sm3::digest(content.as_bytes()))
}

impl ReportSigner {
    /// A fresh random key (tests; the binary uses [`ReportSigner::load_or_create`]).
    pub fn generate() -> Self {
        loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(key) = SigningKey::from_bytes(DIST_ID, &bytes.into()) {
                return Self { key };
            }
        }
    }

    /// The key kept at `path` (hex of the secret scalar), made there on first use with
    /// owner-only permissions.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = unhex(text.trim())
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| std::io::Error::other("report signing key: not 32 bytes of hex"))?;
                let key = SigningKey::from_bytes(DIST_ID, bytes.as_slice().into())
                    .map_err(|_| std::io::Error::other("report signing key: not a valid SM2 key"))?;
                Ok(Self { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let signer = Self::generate();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = path.with_extension("part");
                std::fs::write(&tmp, hex(&signer.key.to_bytes()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
                }
                std::fs::rename(&tmp, path)?;
                Ok(signer)
            }
            Err(e) => Err(e),
        }
    }

    /// Signs a content hash; the signature in hex (r ‖ s).
    pub fn sign(&self, hash: &str) -> String {
        let signature: Signature = self.key.sign(hash.as_bytes());
        hex(&signature.to_bytes())
    }

    /// Whether `signature` is this key's over `hash`.
    pub fn verify(&self, hash: &str, signature: &str) -> bool {
        verify_with(self.key.verifying_key(), hash, signature)
    }

    /// The public key, SEC1 uncompressed, hex.
    pub fn public_key(&self) -> String {
        hex(&self.key.verifying_key().to_sec1_bytes())
    }
}

fn verify_with(key: &VerifyingKey, hash: &str, signature: &str) -> bool {
    let Some(bytes) = unhex(signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else { return false };
    let Ok(signature) = Signature::from_bytes(&bytes) else { return false };
    key.verify(hash.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_content_only() {
        let signer = ReportSigner::generate();
        let hash = content_hash("{\"findings\":\"双肺纹理清晰\"}");
        let signature = signer.sign(&hash);
        assert!(signer.verify(&hash, &signature));
        let other = content_hash("{\"findings\":\"双肺纹理增粗\"}");
        assert_ne!(hash, other);
        assert!(!signer.verify(&other, &signature));
        assert!(!ReportSigner::generate().verify(&hash, &signature), "another key does not verify it");
        assert!(!signer.verify(&hash, "00"));
    }

    #[test]
    fn the_key_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/report-sm2.key");
        let first = ReportSigner::load_or_create(&path).expect("made");
        let again = ReportSigner::load_or_create(&path).expect("read");
        assert_eq!(first.public_key(), again.public_key());
        let hash = content_hash("x");
        assert!(again.verify(&hash, &first.sign(&hash)));
        std::fs::write(&path, "zz").expect("write");
        assert!(ReportSigner::load_or_create(&path).is_err(), "a damaged key is refused, not replaced");
    }

    #[test]
    fn sm3_of_abc_is_the_standards_value() {
        // GM/T 0004-2012, example 1.
        assert_eq!(content_hash("abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }
}
