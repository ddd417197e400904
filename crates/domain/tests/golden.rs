//! Golden files: the stored bytes of every event kind, committed, must keep decoding to
//! the same values and the values must keep encoding to the same bytes. A failure here
//! means a stored shape changed: add a new variant instead (see the `event` module).
//!
//! `UPDATE_GOLDEN=1 cargo test -p helpdesk-domain --test golden` writes the files that are
//! missing (a new event kind); it never overwrites one.

use std::path::PathBuf;

use helpdesk_domain::{event, Actor, Envelope, Event, Timestamp};
use uuid::Uuid;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn envelope_of(event: Event) -> Envelope {
    Envelope {
        command_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_00c0_ffee_0001),
        actor: Actor::Agent(helpdesk_domain::AgentId::from_uuid(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0001,
        ))),
        occurred_at: Timestamp::from_millis(1_714_564_800_123),
        recorded_at: None,
        events: vec![event],
    }
}

#[test]
fn every_event_kind_has_a_golden_file_that_round_trips() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let samples = event::samples();
    let names: Vec<&str> = samples.iter().map(Event::name).collect();
    assert_eq!(
        names,
        Event::NAMES,
        "event::samples() must hold one sample per event kind"
    );

    let mut missing = Vec::new();
    for sample in samples {
        let name = sample.name();
        let path = golden_dir().join(format!("{name}.bin"));
        let envelope = envelope_of(sample);
        let encoded = envelope.encode();
        match std::fs::read(&path) {
            Ok(stored) => {
                let decoded = Envelope::decode(&stored)
                    .unwrap_or_else(|err| panic!("{name}.bin no longer decodes: {err}"));
                assert_eq!(decoded, envelope, "{name}.bin decodes to a different value");
                assert_eq!(encoded, stored, "{name} no longer encodes to {name}.bin");
            }
            Err(_) if update => {
                std::fs::create_dir_all(golden_dir()).unwrap();
                std::fs::write(&path, &encoded).unwrap();
                eprintln!("wrote {}", path.display());
            }
            Err(_) => missing.push(name),
        }
    }
    assert!(
        missing.is_empty(),
        "no golden file for {missing:?}; run UPDATE_GOLDEN=1 cargo test -p helpdesk-domain --test golden"
    );
}

#[test]
fn no_stray_golden_files() {
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let kind = name.strip_suffix(".bin").expect("only .bin files");
        assert!(Event::NAMES.contains(&kind), "{name} names no event kind");
    }
}

#[test]
fn envelope_round_trips_with_many_events() {
    let envelope = Envelope {
        command_id: Uuid::now_v7(),
        actor: Actor::System,
        occurred_at: Timestamp::from_millis(-5),
        recorded_at: None,
        events: event::samples(),
    };
    assert_eq!(Envelope::decode(&envelope.encode()).unwrap(), envelope);
}

#[test]
fn trailing_and_truncated_bytes_are_errors() {
    let mut bytes = envelope_of(event::samples().remove(0)).encode();
    bytes.push(0);
    assert!(Envelope::decode(&bytes).is_err());
    bytes.truncate(bytes.len() - 3);
    assert!(Envelope::decode(&bytes).is_err());
    assert!(Envelope::decode(&[]).is_err());
    assert!(
        Envelope::decode(&[2]).is_err(),
        "version 3 does not exist yet"
    );
}

/// An import's envelope (version 2, with the time it was recorded): its committed bytes
/// keep decoding to the same value, and the value keeps encoding to them.
#[test]
fn an_import_envelope_keeps_its_bytes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden-import.bin");
    let mut envelope = envelope_of(event::samples().remove(0));
    envelope.recorded_at = Some(Timestamp::from_millis(1_764_806_400_456));
    let encoded = envelope.encode();
    assert_eq!(encoded[0], 1, "an import is written as version 2");
    match std::fs::read(&path) {
        Ok(stored) => {
            assert_eq!(Envelope::decode(&stored).unwrap(), envelope);
            assert_eq!(
                encoded, stored,
                "an import no longer encodes to its golden bytes"
            );
        }
        Err(_) if std::env::var_os("UPDATE_GOLDEN").is_some() => {
            std::fs::write(&path, &encoded).unwrap()
        }
        Err(err) => panic!("{}: {err}; run with UPDATE_GOLDEN=1", path.display()),
    }
    let live = Envelope {
        recorded_at: None,
        ..envelope
    };
    assert_eq!(
        live.encode()[0],
        0,
        "anything else is still written as version 1"
    );
}
