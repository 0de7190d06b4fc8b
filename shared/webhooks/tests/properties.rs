//! Signature checks fed what an attacker sends: arbitrary headers, bodies, timestamps and
//! tokens. None panics, and nothing but the real signature over the real body passes.

use proptest::prelude::*;
use webhooks::links::UnsubscribeLinks;
use webhooks::{sendgrid, sign_hmac_sha256, verify_hmac_sha256};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn hmac_accepts_only_the_signature_of_the_body(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 0..2048),
        header in "\\PC{0,200}",
        flip in any::<usize>(),
    ) {
        // Whatever the header says, no panic, and a random one is refused.
        prop_assert!(verify_hmac_sha256(&secret, &body, Some(&header)).is_err());
        prop_assert!(verify_hmac_sha256(&secret, &body, None).is_err());
        let good = sign_hmac_sha256(&secret, &body);
        prop_assert!(verify_hmac_sha256(&secret, &body, Some(&good)).is_ok());
        // One changed byte of the body: refused.
        if !body.is_empty() {
            let mut other = body.clone();
            let i = flip % other.len();
            other[i] ^= 0x01;
            prop_assert!(verify_hmac_sha256(&secret, &other, Some(&good)).is_err());
        }
    }

    #[test]
    fn sendgrid_refuses_anything_it_did_not_sign(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        signature in "\\PC{0,300}",
        timestamp in "\\PC{0,40}",
        key in "\\PC{0,200}",
        now in 0i64..4_000_000_000,
    ) {
        let signer = sendgrid::Signer::generate();
        for public_key in [signer.public_key(), key.clone()] {
            prop_assert!(
                sendgrid::verify(&public_key, &body, Some(&signature), Some(&timestamp), now, 600)
                    .is_err()
            );
        }
        let ts = now.to_string();
        let good = signer.sign(&ts, &body);
        prop_assert!(sendgrid::verify(&signer.public_key(), &body, Some(&good), Some(&ts), now, 600).is_ok());
        // The same signature under another timestamp: refused.
        let later = (now + 1).to_string();
        prop_assert!(sendgrid::verify(&signer.public_key(), &body, Some(&good), Some(&later), now, 600).is_err());
    }

    #[test]
    fn unsubscribe_tokens_are_only_ours(token in "\\PC{0,300}", id in "ctr_[0-9a-z]{26}") {
        let links = UnsubscribeLinks::new(&[7u8; 32]).unwrap();
        prop_assert!(links.verify(&token).is_err());
        let real = links.token(&id);
        prop_assert_eq!(links.verify(&real).unwrap(), id.as_str());
        let other = UnsubscribeLinks::new(&[8u8; 32]).unwrap();
        prop_assert!(other.verify(&real).is_err());
    }
}
