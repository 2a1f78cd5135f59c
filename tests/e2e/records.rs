//! The records' object store (`HOINGHI_RECORDS`, `hoinghi_runtime::records`) against a real
//! `nats-server`: an object round-trips, a second put of the same bytes writes nothing, and a
//! reference that does not match what the bucket holds (other hash, other size, an object replaced
//! behind the services' back) is refused, never read. With authentication on, a service identity
//! writes and reads objects (flow control included) and a site cannot touch the bucket.

use async_nats::jetstream;
use hoinghi_runtime::records::{sha256_hex, RecordError, Records, INLINE_LIMIT};
use hoinghi_shared::events::StoredObject;
use hoinghi_shared::streams::{RECORDS_BUCKET, RECORDS_BUCKET_STREAM};
use hoinghi_shared::ConferenceId;
use hoinghi_tests::secure::SecureStack;
use hoinghi_tests::NatsServer;

/// `len` bytes that differ from chunk to chunk (the object store cuts 128 KiB chunks).
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u64).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

async fn stored_messages(js: &jetstream::Context) -> u64 {
    js.get_stream(RECORDS_BUCKET_STREAM).await.unwrap().info().await.unwrap().state.messages
}

#[tokio::test]
async fn an_object_round_trips_once_and_a_mismatching_reference_is_refused() {
    let server = NatsServer::start().await.unwrap();
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = jetstream::new(client);
    // Given the bucket as every service ensures it at start
    hoinghi_runtime::streams::ensure_all_streams(&js, 1).await.unwrap();
    let records = Records::open(&js).await.unwrap();
    let conference = ConferenceId::generate();
    let record = bytes(3 * INLINE_LIMIT + 17, 1);

    // When a record is put
    let reference = records.put("attendance-record", &conference, &record).await.unwrap();
    // Then the reference names it by its hash, and it reads back whole
    assert_eq!(reference.sha256, sha256_hex(&record));
    assert_eq!(reference.size, record.len() as u64);
    assert_eq!(reference.object, format!("attendance-record/{conference}/{}", reference.sha256));
    assert_eq!(records.get(&reference).await.unwrap(), record);
    let written = stored_messages(&js).await;
    assert!(written >= 2, "chunks and metadata: {written}");

    // When the same bytes are put again (a retried command)
    let again = records.put("attendance-record", &conference, &record).await.unwrap();
    // Then the same reference, and nothing written
    assert_eq!(again, reference);
    assert_eq!(stored_messages(&js).await, written, "a second put of the same bytes writes nothing");

    // When a reference names other bytes, another size, or is malformed: refused
    let other = bytes(record.len(), 2);
    let other_sha = sha256_hex(&other);
    let other_hash = StoredObject {
        object: format!("attendance-record/{conference}/{other_sha}"),
        sha256: other_sha,
        ..reference.clone()
    };
    let other_size = StoredObject { size: reference.size - 1, ..reference.clone() };
    let name_not_hash = StoredObject { sha256: sha256_hex(b"x"), ..reference.clone() };
    assert!(matches!(records.get(&other_hash).await, Err(RecordError::Missing(_))), "no such object");
    for bad in [other_size, name_not_hash] {
        let refused = records.get(&bad).await;
        assert!(matches!(refused, Err(RecordError::Mismatch { .. })), "{bad:?}: {refused:?}");
    }

    // When the object is replaced behind the services' back under the same name
    let raw = js.get_object_store(RECORDS_BUCKET).await.unwrap();
    let mut tampered = &other[..];
    raw.put(reference.object.as_str(), &mut tampered).await.unwrap();
    // Then reading it with the event's reference is refused (same size, other hash)
    let refused = records.get(&reference).await;
    assert!(matches!(refused, Err(RecordError::Mismatch { .. })), "{refused:?}");
    // And putting the original again does not overwrite what is found
    let refused = records.put("attendance-record", &conference, &record).await;
    assert!(matches!(refused, Err(RecordError::Mismatch { .. })), "{refused:?}");
}

#[tokio::test]
async fn a_service_identity_writes_and_reads_the_bucket_and_a_site_cannot() {
    // Given the secured stack (its services created the bucket)
    let stack = SecureStack::start(&["ba-be"]).await.unwrap();
    let conference = ConferenceId::generate();
    let minutes = stack.connect("service-minutes").await.unwrap();
    let js = jetstream::new(minutes.nats().clone());
    let records = Records::open(&js).await.unwrap();
    // When the minutes service's identity writes a record of several MiB and reads it back
    let record = bytes(6 * 1024 * 1024, 3);
    let reference = records.put("minutes", &conference, &record).await.unwrap();
    // Then it reads back whole, its ordered consumer's flow control answered
    assert_eq!(records.get(&reference).await.unwrap(), record);
    // And another service reads it too
    let attendance = stack.connect("service-attendance").await.unwrap();
    let other = Records::open(&jetstream::new(attendance.nats().clone())).await.unwrap();
    assert_eq!(other.get(&reference).await.unwrap(), record);
    // And no service may purge the bucket's stream
    let purge = js.get_stream(RECORDS_BUCKET_STREAM).await.unwrap().purge().await;
    assert!(purge.is_err(), "purge refused");
    assert_eq!(records.get(&reference).await.unwrap(), record, "still whole");

    // When a site tries to open the bucket or write to it
    let site = stack.connect("site-ba-be").await.unwrap();
    let site_js = jetstream::new(site.nats().clone());
    assert!(Records::open(&site_js).await.is_err(), "a site may not use the JetStream API");
    let attempt = site.attempt(&format!("$O.{RECORDS_BUCKET}.C.x"), "junk").await;
    assert!(attempt.is_refused(), "{attempt:?}");
}
