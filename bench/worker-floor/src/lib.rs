//! The workers-rs floor: every kind of binding call hookseal's Worker makes (the request and
//! its headers, KV, D1, Queues, R2, a Durable Object with SQL storage and an alarm, an outbound
//! `fetch`, `waitUntil`, the queue and cron handlers), once each, and nothing of a gateway.
//! Built by `bench/worker-size.mjs` with the Worker's own release profile and wasm-opt run, its
//! size is what any Worker written with workers-rs and these bindings starts from.

use std::time::Duration;

use worker::{
    Context, Delay, Env, Fetch, Headers, MessageBatch, MessageExt, Method, QueueContentType,
    RawMessageBuilder, Request, RequestInit, RequestRedirect, Response, Result, ScheduleContext,
    ScheduledEvent, event,
};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> Result<Response> {
    if req.path() == "/bindings" {
        return bindings(req, &env).await;
    }
    let body = req.bytes().await?;
    let signature = req.headers().get("x-signature")?.unwrap_or_default();
    let url = req.url()?;
    #[cfg(feature = "core")]
    let signature = with_core(&req, &body, &signature)?;
    let kv = env.kv("KV")?;
    let seen = kv.get(&signature).text().await?.is_some();
    kv.put(&signature, "1")?
        .expiration_ttl(60)
        .execute()
        .await?;
    let db = env.d1("DB")?;
    let rows = db
        .prepare("SELECT ?1 AS n")
        .bind(&[body.len().into()])?
        .all()
        .await?;
    let _ = rows.meta();
    db.batch(vec![db.prepare("SELECT 2")]).await?;
    let message = RawMessageBuilder::new(js_sys::Object::new().into())
        .build_with_content_type(QueueContentType::V8);
    env.queue("QUEUE")?.send_raw(message).await?;
    let bucket = env.bucket("R2")?;
    bucket.put("key", body.clone()).execute().await?;
    if let Some(object) = bucket.get("key").execute().await? {
        let _ = object.body().map(|b| b.stream());
    }
    let stub = env
        .durable_object("GATE")?
        .id_from_name("floor")?
        .get_stub()?;
    let _ = stub.fetch_with_str("https://gate/").await?.text().await?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(body.into()))
        .with_redirect(RequestRedirect::Manual);
    let outbound = Request::new_with_init(url.as_str(), &init)?;
    let _ = Fetch::Request(outbound).send().await?.bytes().await?;
    ctx.wait_until(async move { Delay::from(Duration::from_millis(1)).await });
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::from_bytes(format!("{seen}").into_bytes())?
        .with_status(202)
        .with_headers(headers))
}

/// The binding calls the hand-written JS Worker makes for a delivery without its event log, and
/// nothing else (no verification, no parsing): what workers-rs's bridge costs for them, timed
/// by `bench/worker-cpu.mjs` against the same calls in JS.
async fn bindings(mut req: Request, env: &Env) -> Result<Response> {
    let body = req.bytes().await?;
    let signature = req
        .headers()
        .get("x-mossmoon-signature")?
        .unwrap_or_default();
    let mark = format!("bench/{}", signature.get(..16).unwrap_or_default());
    let kv = env.kv("DEDUP")?;
    if kv.get(&mark).text().await?.is_some() {
        return Response::from_json(&"duplicate").map(|r| r.with_status(200));
    }
    let message = format!(r#"{{"source":"bench","attempt":0,"bytes":{}}}"#, body.len());
    let message = js_sys::JSON::parse(&message)?;
    env.queue("OUTBOX")?
        .send_raw(RawMessageBuilder::new(message).build_with_content_type(QueueContentType::V8))
        .await?;
    kv.put(&mark, "1")?
        .expiration_ttl(259_200)
        .execute()
        .await?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(
        Response::from_bytes(br#"{"accepted":1,"duplicates":0}"#.to_vec())?
            .with_status(202)
            .with_headers(headers),
    )
}

/// The core as the Worker calls it; what it returns stands in for the signature so that none of
/// it is optimized away.
#[cfg(feature = "core")]
fn with_core(req: &Request, body: &[u8], signature: &str) -> Result<String> {
    use hookseal::{Document, Filter, Scheme, Template, Verifier};
    let fail = |e: hookseal::Error| worker::Error::RustError(e.to_string());
    let scheme = req.headers().get("x-scheme")?.unwrap_or_default();
    let verifier = Verifier::new(
        Scheme::from_config_json(&scheme).map_err(fail)?,
        [signature],
    )
    .map_err(fail)?;
    let headers = [("x-signature".to_owned(), signature.to_owned())];
    let request = hookseal::Request::new(body, &headers);
    let events = verifier.verify_and_parse(&request, 0).map_err(fail)?.events;
    let filter = Filter::from_json(&scheme).map_err(fail)?;
    let template = Template::from_json(&scheme).map_err(fail)?;
    let mut out = String::new();
    for e in &events {
        let json = e.to_json();
        let doc = Document::parse(&json).map_err(fail)?;
        if filter.matches(&doc) {
            out.push_str(&template.render(&doc));
        }
    }
    Ok(out)
}

#[event(queue)]
async fn queue(batch: MessageBatch<js_sys::Object>, _env: Env, _ctx: Context) -> Result<()> {
    for message in batch.raw_iter() {
        let _ = message.body();
        message.ack();
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, _env: Env, _ctx: ScheduleContext) {}

mod gate {
    //! A Durable Object with SQL storage and an alarm, as hookseal's gates are.

    use std::time::Duration;

    use worker::{
        DurableObject, Env, Request, Response, Result, SqlStorageValue, State, durable_object,
    };

    /// A Durable Object with SQL storage and an alarm, as hookseal's gates are.
    #[durable_object(alarm)]
    pub struct Gate {
        state: State,
    }

    impl DurableObject for Gate {
        fn new(state: State, _env: Env) -> Self {
            Self { state }
        }

        async fn fetch(&self, _req: Request) -> Result<Response> {
            let cursor = self
                .state
                .storage()
                .sql()
                .exec("SELECT ?", vec![SqlStorageValue::Integer(1)])?;
            for _ in cursor.raw() {}
            self.state
                .storage()
                .set_alarm(Duration::from_secs(1))
                .await?;
            Response::ok("ok")
        }

        async fn alarm(&self) -> Result<Response> {
            Response::ok("")
        }
    }
}
