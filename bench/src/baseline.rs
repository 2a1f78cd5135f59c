//! The limit: raw NATS doing the same shape of work with nothing of hoinghi in the way.

use std::time::Duration;

use anyhow::Context;
use async_nats::{jetstream, Message, RequestError, ToSubject};
use bytes::Bytes;
use futures::StreamExt;

use crate::measure::{drive, Phase};

/// A file stream of its own for a baseline: `subjects`, deduplicated by message id over two minutes.
pub fn file_stream(name: &str, subjects: &str) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: name.into(),
        subjects: vec![subjects.into()],
        storage: jetstream::stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

/// Core request/reply to an echo responder on its own connection.
///
/// # Errors
/// NATS unreachable or a request failed.
pub async fn core_echo(url: &str, count: usize, concurrency: usize, payload: &Bytes) -> anyhow::Result<Phase> {
    let responder = async_nats::connect(url).await?;
    let mut sub = responder.subscribe("bench.echo").await?;
    let echo = tokio::spawn(async move {
        while let Some(message) = sub.next().await {
            if let Some(reply) = message.reply {
                let _ = responder.publish(reply, message.payload).await;
            }
        }
    });
    let phase = requests(
        url,
        count,
        concurrency,
        payload,
        |_| "bench.echo",
        |reply| {
            reply.context("echo request")?;
            Ok(())
        },
    )
    .await;
    echo.abort();
    phase
}

/// "Request → JetStream publish with ack → reply": a responder that only appends each request to
/// a file-backed stream (one subject per request, like one aggregate per site) and replies once the
/// append is acknowledged, handling requests concurrently as the services do.
///
/// # Errors
/// NATS unreachable or a request failed.
pub async fn jetstream_append(
    url: &str,
    count: usize,
    concurrency: usize,
    payload: &Bytes,
    run: &str,
) -> anyhow::Result<Phase> {
    let responder = async_nats::connect(url).await?;
    let js = jetstream::new(responder.clone());
    js.get_or_create_stream(file_stream("BENCH_BASELINE", "bench.log.>"))
        .await
        .map_err(|e| anyhow::anyhow!("creating the baseline stream: {e}"))?;
    let mut sub = responder.subscribe(format!("bench.append.{run}.*")).await?;
    let run_tag = run.to_owned();
    let append = tokio::spawn(async move {
        while let Some(message) = sub.next().await {
            let (js, responder, run) = (js.clone(), responder.clone(), run_tag.clone());
            tokio::spawn(async move {
                let token = message.subject.as_str().rsplit('.').next().unwrap_or("0").to_owned();
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("baseline-{run}-{token}").as_str());
                let acked =
                    match js.publish_with_headers(format!("bench.log.{run}.{token}"), headers, message.payload).await {
                        Ok(ack) => ack.await.is_ok(),
                        Err(_) => false,
                    };
                if let Some(reply) = message.reply {
                    let body: Bytes =
                        if acked { Bytes::from_static(b"{\"ok\":true}") } else { Bytes::from_static(b"{}") };
                    let _ = responder.publish(reply, body).await;
                }
            });
        }
    });
    let phase = requests(
        url,
        count,
        concurrency,
        payload,
        |i| format!("bench.append.{run}.{i}"),
        |reply| {
            let reply = reply.context("append request")?;
            anyhow::ensure!(reply.payload.as_ref() == b"{\"ok\":true}", "the baseline append failed");
            Ok(())
        },
    )
    .await;
    append.abort();
    phase
}

/// Sends `count` requests of `payload`, `concurrency` at a time, on a connection of its own, the
/// `i`-th to `subject(i)`; `check` says whether each reply is what was wanted.
async fn requests<S: ToSubject>(
    url: &str,
    count: usize,
    concurrency: usize,
    payload: &Bytes,
    subject: impl Fn(usize) -> S,
    check: impl Fn(Result<Message, RequestError>) -> anyhow::Result<()>,
) -> anyhow::Result<Phase> {
    let client = async_nats::connect(url).await?;
    client.flush().await?;
    drive(count, concurrency, |i| {
        let (client, payload, subject, check) = (client.clone(), payload.clone(), subject(i), &check);
        async move { check(client.request(subject, payload).await) }
    })
    .await
}
