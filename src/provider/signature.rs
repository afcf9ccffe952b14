//! The webhook signature: `X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, made by
//! the provider and checked by FinCore in constant time.

use ring::hmac;

pub const HEADER: &str = "x-signature";
const PREFIX: &str = "sha256=";

/// The header's value for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, body);
    let mut text = String::with_capacity(PREFIX.len() + 64);
    text.push_str(PREFIX);
    for byte in tag.as_ref() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Whether `header` is the signature of `body` under `secret`. The comparison of the tags is
/// ring's, in constant time; a malformed header is refused before any comparison.
pub fn verify(secret: &[u8], body: &[u8], header: &[u8]) -> bool {
    let Some(hex) = header.strip_prefix(PREFIX.as_bytes()) else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).is_ok()
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_and_body() {
        // RFC 4231 test case 2.
        let signed = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            signed,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(
            b"Jefe",
            b"what do ya want for nothing?",
            signed.as_bytes()
        ));
        assert!(!verify(
            b"Jefe",
            b"what do ya want for nothing!",
            signed.as_bytes()
        ));
        assert!(!verify(
            b"jefe",
            b"what do ya want for nothing?",
            signed.as_bytes()
        ));
        assert!(!verify(b"Jefe", b"x", b"sha256=zz"));
        assert!(!verify(b"Jefe", b"x", b""));
        let upper = signed.replace("sha256=", "SHA256=");
        assert!(!verify(
            b"Jefe",
            b"what do ya want for nothing?",
            upper.as_bytes()
        ));
    }
}
