//! Whatever bytes the log holds, decoding them never panics.

use helpdesk_domain::{event, Actor, Envelope, Event, Timestamp};
use proptest::prelude::*;
use uuid::Uuid;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::decode(&bytes);
    }

    /// Mutations of valid envelopes reach much deeper than random bytes. Every event kind
    /// of the catalogue is a starting point: the range follows [`Event::NAMES`] (and
    /// `event::samples` has one sample per kind, in that order: a unit test of `event`).
    #[test]
    fn decode_of_mutated_envelopes_never_panics(
        index in 0usize..Event::NAMES.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let samples = event::samples();
        let sample = samples[index].clone();
        let mut bytes = Envelope {
            command_id: Uuid::nil(),
            actor: Actor::System,
            occurred_at: Timestamp::from_millis(1),
            recorded_at: None,
            events: vec![sample],
        }
        .encode();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        let _ = Envelope::decode(&bytes[..keep]);
        let _ = Envelope::decode(&bytes);
    }
}
