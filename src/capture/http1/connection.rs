//! Pairing on one connection: a [`MessageParser`] per direction, requests queued in order and
//! answered FIFO (RFC 9112 §9.3.2), interim responses attached to the next final one, pairing
//! repaired after gaps, and the `Upgrade: h2c` hand-over to HTTP/2.

use super::framing::{request_framing, response_framing};
use super::{
    Event, FlowInfo, Framing, GapEffect, Head, HttpOptions, MAX_PIPELINED, MessageParser, Ready,
    Role,
};
use crate::capture::tcp_reassembly::{Chunk, Origin};
use crate::capture::{Note, Notes, settle_incomplete};
use crate::model::{Body, Cut, Exchange, Headers, Request, Response};
use std::collections::VecDeque;

#[derive(Debug)]
struct Slot {
    request: Request,
    start: Origin,
    done: bool,
    /// A head (or a whole message) of it was lost: it is dropped when its turn comes.
    damaged: bool,
    /// Bytes of a body were lost in a gap: it is kept, the body marked, unless
    /// `--drop-incomplete`.
    gapped: bool,
    response: Option<Response>,
    interim: Vec<u16>,
}

impl Slot {
    /// Part of this exchange was lost: it takes its turn, then is dropped (counted).
    fn lose(&mut self) {
        self.damaged = true;
        self.done = true;
    }
}

#[derive(Debug)]
struct CurrentResponse {
    response: Response,
    /// Index into `slots`, or `None` for a response without a request.
    slot: Option<usize>,
    interim: bool,
}

/// What an accepted `Upgrade: h2c` leaves for HTTP/2: the request, which becomes stream 1,
/// and each direction's bytes after the HTTP/1.1 messages.
#[derive(Debug)]
pub struct H2cUpgrade {
    /// The upgraded request.
    pub request: Request,
    /// The packet that began it.
    pub start: Origin,
    /// Its index among the connection's exchanges.
    pub index: u64,
    /// Client bytes not parsed as HTTP/1.1 (the HTTP/2 preface, if it came already).
    pub client: Vec<(Vec<u8>, Origin)>,
    /// Server bytes after the `101` head (its SETTINGS frame first).
    pub server: Vec<(Vec<u8>, Origin)>,
}

/// One TCP connection's HTTP state: two parsers and the requests awaiting responses.
#[derive(Debug)]
pub struct Connection {
    client: MessageParser,
    server: MessageParser,
    slots: VecDeque<Slot>,
    /// How many of the front slots have their final response.
    answered: usize,
    current: Option<CurrentResponse>,
    info: FlowInfo,
    opts: HttpOptions,
    next_index: u64,
    /// Finished exchanges not yet taken.
    pub ready: Vec<Ready>,
    /// What went wrong, counted.
    pub notes: Notes,
    /// Messages seen, for the summary.
    pub requests: u64,
    /// Final responses seen.
    pub responses: u64,
    not_http: bool,
    after_server_gap: bool,
    h2c: Option<H2cUpgrade>,
}

impl Connection {
    /// A connection; `from_start` when its SYN was captured.
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool) -> Self {
        Self {
            client: MessageParser::new(Role::Request, from_start).with_limits(opts.limits),
            server: MessageParser::new(Role::Response, from_start).with_limits(opts.limits),
            slots: VecDeque::new(),
            answered: 0,
            current: None,
            info,
            opts,
            next_index: 0,
            ready: Vec::new(),
            notes: Notes::default(),
            requests: 0,
            responses: 0,
            not_http: false,
            after_server_gap: false,
            h2c: None,
        }
    }

    /// What the connection's exchanges are stamped with.
    pub fn info(&self) -> &FlowInfo {
        &self.info
    }

    /// The choices it was made with.
    pub fn options(&self) -> HttpOptions {
        self.opts
    }

    /// The `Upgrade: h2c` this connection stopped for, taken; HTTP/2 goes on from there.
    pub fn take_h2c(&mut self) -> Option<H2cUpgrade> {
        self.h2c.take()
    }

    /// Whether the connection was found not to be HTTP.
    pub fn not_http(&self) -> bool {
        self.not_http
    }

    /// Whether both directions stopped parsing (not HTTP, upgraded, tunnelled).
    pub fn stopped(&self) -> bool {
        self.client.stopped() && self.server.stopped()
    }

    /// The time of the oldest byte that may still become part of an exchange not yet ready.
    pub fn oldest_pending(&self) -> Option<crate::model::Timestamp> {
        let slot = self.slots.front().map(|s| s.start.ts);
        let client = self.client.oldest_pending().map(|o| o.ts);
        [slot, client].into_iter().flatten().min()
    }

    /// Takes one chunk of one direction.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        match chunk {
            Chunk::Data(data, origin) => {
                let parser = self.parser(role);
                if parser.stopped() {
                    return;
                }
                parser.push(data, origin);
            }
            Chunk::Gap(n) => {
                self.info.note_gap(&mut self.notes, role, n);
                match role {
                    Role::Request => {
                        if self.client.gap(n) == GapEffect::MessageLost {
                            if let Some(s) = self.slots.back_mut() {
                                s.lose();
                            }
                        }
                    }
                    Role::Response => {
                        let effect = self.server.gap(n);
                        // A gap inside one body lost no response boundary: pairing needs no
                        // repair.
                        self.after_server_gap |= effect != GapEffect::InBody;
                        if effect == GapEffect::MessageLost {
                            if let Some(cur) = self.current.take() {
                                self.lose_response(cur);
                            }
                        }
                    }
                }
            }
        }
        self.drive(role);
    }

    /// The parser of `role`'s direction.
    fn parser(&mut self, role: Role) -> &mut MessageParser {
        match role {
            Role::Request => &mut self.client,
            Role::Response => &mut self.server,
        }
    }

    fn drive(&mut self, role: Role) {
        while let Some(event) = self.parser(role).poll() {
            match role {
                Role::Request => self.on_request_event(event),
                Role::Response => self.on_response_event(event),
            }
        }
        self.emit();
    }

    fn on_request_event(&mut self, event: Event) {
        match event {
            Event::Head(
                Head::Request {
                    method,
                    target,
                    version,
                    headers,
                },
                start,
            ) => {
                self.requests += 1;
                self.server.expect_http();
                let framing = request_framing(&headers);
                let framing = match framing {
                    Ok(f) => Some(f),
                    Err(why) => {
                        self.notes.record(Note::UnparseableHead, || {
                            format!(
                                "{}: packet {}: {why}, so the request's body is unknown (RFC 9112 §6.3); skipped to the next request",
                                self.info.label, start.packet
                            )
                        });
                        None
                    }
                };
                let mut request = self.build_request(method, target, version, headers, start);
                if framing.is_none() {
                    // The head is real; where its body ends is not known, so it is kept with
                    // a body marked as cut before its first byte, not as an empty one.
                    let cut = Cut {
                        seen: 0,
                        announced: None,
                        missing: Vec::new(),
                    };
                    request.body = cut_body(Vec::new(), cut);
                }
                if self.slots.len() >= MAX_PIPELINED {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{}: more than {MAX_PIPELINED} requests pipelined",
                            self.info.label
                        )
                    });
                    if let Some(s) = self.pop_slot() {
                        self.finish_slot(s);
                    }
                }
                // Room for one request, not four: most connections never pipeline. Later
                // pushes grow by doubling.
                if self.slots.capacity() == 0 {
                    self.slots.reserve_exact(1);
                }
                self.slots.push_back(Slot {
                    request,
                    start,
                    done: framing.is_none(),
                    damaged: false,
                    gapped: false,
                    response: None,
                    interim: Vec::new(),
                });
                match framing {
                    Some(framing) => self.client.set_framing(framing),
                    None => self.client.skip_to_next_message(),
                }
            }
            Event::Body {
                body,
                trailers,
                missing,
                end_lost,
                truncated,
                ..
            } => {
                if self.slots.is_empty() {
                    return;
                }
                if truncated {
                    self.note_body_limit(Role::Request);
                }
                let slot = self.slots.back_mut().expect("not empty");
                let is_connect = slot.request.method.eq_ignore_ascii_case("CONNECT");
                let gapped = !missing.is_empty() || end_lost;
                slot.request.body =
                    finished_body(body, truncated, missing, end_lost, &slot.request.headers);
                slot.request.trailers = trailers;
                slot.done = true;
                slot.gapped |= gapped;
                if is_connect {
                    // Bytes after a CONNECT request belong to the tunnel unless it is refused;
                    // wait for the response before parsing more.
                    self.client.set_framing(Framing::Close);
                }
            }
            // A request parser only returns request heads.
            Event::Head(Head::Response { .. }, _) => {}
            Event::NotHttp => self.mark_not_http(),
            Event::Unparseable(note, why, at) => {
                self.note_unparseable(Role::Request, note, &why, at);
                if let Some(s) = self.slots.back_mut().filter(|s| !s.done) {
                    s.lose();
                }
            }
        }
    }

    fn on_response_event(&mut self, event: Event) {
        match event {
            Event::Head(
                Head::Response {
                    status,
                    reason,
                    version,
                    headers,
                },
                start,
            ) => {
                if std::mem::take(&mut self.server.lenient) > 0 {
                    self.notes.record(Note::LenientHead, || {
                        format!("{}: packet {}: {status}", self.info.label, start.packet)
                    });
                }
                if std::mem::take(&mut self.after_server_gap) {
                    self.skip_answered_in_gap(start);
                }
                let mut slot = (self.answered < self.slots.len()).then_some(self.answered);
                // A response cannot begin before its request: after requests were lost in a gap,
                // a response to one of them finds a later request first. It has no request here.
                if slot.is_some_and(|i| self.slots[i].start.packet > start.packet) {
                    slot = None;
                }
                let method = slot.map(|i| self.slots[i].request.method.clone());
                if slot.is_none() {
                    self.notes.record(Note::OrphanResponse, || {
                        format!("{}: packet {}: {status}", self.info.label, start.packet)
                    });
                }
                let interim = (100..200).contains(&status) && status != 101;
                let framing = match response_framing(method.as_deref(), status, &headers) {
                    Ok(framing) => framing,
                    Err(why) => {
                        self.skip_invalid_response(slot, status, &why, start);
                        return;
                    }
                };
                let h2c = status == 101
                    && slot.is_some_and(|i| offers_h2c(&self.slots[i].request, &headers));
                self.current = Some(CurrentResponse {
                    response: bare_response(status, Some(reason), Some(version), headers),
                    slot,
                    interim,
                });
                if h2c {
                    self.current = None;
                    self.upgrade_h2c(slot.unwrap_or_default());
                } else if framing == Framing::Stop {
                    // 101 or a CONNECT tunnel: the exchange is complete at the head.
                    let what = if status == 101 { "upgrade" } else { "tunnel" };
                    self.notes.record(Note::Upgrade, || {
                        format!("{}: packet {}: {what}", self.info.label, start.packet)
                    });
                    self.on_response_event(Event::Body {
                        body: Vec::new(),
                        trailers: Headers::new(),
                        end: start,
                        missing: Vec::new(),
                        end_lost: false,
                        truncated: false,
                    });
                    if let Some(s) = slot.and_then(|i| self.slots.get_mut(i)) {
                        s.done = true;
                    }
                    self.server.stop();
                    self.client.stop();
                } else {
                    self.server.set_framing(framing);
                }
            }
            Event::Body {
                body,
                trailers,
                end,
                missing,
                end_lost,
                truncated,
            } => {
                let Some(mut cur) = self.current.take() else {
                    return;
                };
                if cur.interim {
                    if let Some(s) = cur.slot.and_then(|i| self.slots.get_mut(i)) {
                        s.interim.push(cur.response.status);
                    }
                    return;
                }
                self.responses += 1;
                if truncated {
                    self.note_body_limit(Role::Response);
                }
                let gapped = !missing.is_empty() || end_lost;
                cur.response.body =
                    finished_body(body, truncated, missing, end_lost, &cur.response.headers);
                cur.response.trailers = trailers;
                cur.response.timestamp = Some(end.ts);
                let Some(i) = cur.slot else { return };
                let Some(slot) = self.slots.get_mut(i) else {
                    return;
                };
                cur.response.interim = std::mem::take(&mut slot.interim);
                slot.gapped |= gapped;
                let connect_ok = slot.request.method.eq_ignore_ascii_case("CONNECT")
                    && (200..300).contains(&cur.response.status);
                let was_connect = slot.request.method.eq_ignore_ascii_case("CONNECT");
                slot.response = Some(cur.response);
                self.answered += 1;
                if was_connect && !connect_ok {
                    // Refused: the client may go on with HTTP.
                    self.client.set_framing(Framing::Empty);
                }
            }
            // A response parser only returns response heads.
            Event::Head(Head::Request { .. }, _) => {}
            Event::NotHttp => self.mark_not_http(),
            Event::Unparseable(note, why, at) => {
                self.note_unparseable(Role::Response, note, &why, at);
                if let Some(cur) = self.current.take() {
                    self.lose_response(cur);
                } else if self
                    .slots
                    .get(self.answered)
                    .is_some_and(|s| s.start.packet <= at.packet)
                {
                    // The broken head answered the oldest open request, which stays without a
                    // response; the next response pairs with the next request (FIFO).
                    self.answered += 1;
                }
            }
        }
    }

    /// A `101` accepted `Upgrade: h2c` for slot `i`: earlier exchanges are written out, the
    /// request and the unparsed bytes are kept for HTTP/2, and parsing stops.
    fn upgrade_h2c(&mut self, i: usize) {
        for _ in 0..i {
            if let Some(s) = self.slots.pop_front() {
                self.finish_slot(s);
            }
        }
        self.answered = 0;
        let Some(slot) = self.slots.pop_front() else {
            return;
        };
        let index = self.next_index;
        self.next_index += 1;
        self.h2c = Some(H2cUpgrade {
            request: slot.request,
            start: slot.start,
            index,
            client: self.client.take_rest(),
            server: self.server.take_rest(),
        });
        while let Some(s) = self.slots.pop_front() {
            self.finish_slot(s);
        }
        self.server.stop();
        self.client.stop();
    }

    /// A response head whose body cannot be delimited (RFC 9112 §6.3 item 5): counted as a
    /// message that did not parse, its request left without a response, and the parser
    /// resynchronises at the next response, which pairs with the next request (FIFO).
    fn skip_invalid_response(&mut self, slot: Option<usize>, status: u16, why: &str, at: Origin) {
        self.notes.record(Note::UnparseableHead, || {
            format!(
                "{}: packet {}: response {status}: {why}, so its body's end is unknown (RFC 9112 §6.3); skipped to the next response",
                self.info.label, at.packet
            )
        });
        if slot.is_some() {
            self.answered += 1;
        }
        self.server.skip_to_next_message();
    }

    /// A body went past the body limit (`--max-body-bytes`); the rest was discarded.
    fn note_body_limit(&mut self, role: Role) {
        let (label, what) = (&self.info.label, role.message());
        let limit = self.opts.limits.body_bytes;
        self.notes.record(Note::Limit, || {
            format!("{label}: {what} body over {limit} bytes cut (--max-body-bytes)")
        });
    }

    /// A head that did not parse; its bytes are skipped.
    fn note_unparseable(&mut self, role: Role, note: Note, why: &str, at: Origin) {
        let (label, what) = (&self.info.label, role.message());
        self.notes.record(note, || {
            format!("{label}: packet {}: {what}: {why}", at.packet)
        });
    }

    fn mark_not_http(&mut self) {
        if self.requests == 0 && self.responses == 0 {
            self.not_http = true;
        }
        self.client.stop();
        self.server.stop();
    }

    /// After a gap in the responses, the first response found may not answer the oldest open
    /// request: whole responses can be in the gap. Without pipelining a client sends its next
    /// request only after the previous response, so every open request followed by another
    /// request sent before this response began was answered inside the gap: those are marked
    /// lost. (With pipelining this guess can drop too many; it never pairs wrongly in the
    /// non-pipelined case, which is what the FIFO rule alone would do.)
    fn skip_answered_in_gap(&mut self, response_start: Origin) {
        let open = self.answered..self.slots.len();
        let Some(last_before) = open
            .clone()
            .rev()
            .find(|&i| self.slots[i].start.packet < response_start.packet)
        else {
            return;
        };
        for i in open.start..last_before {
            let slot = &mut self.slots[i];
            slot.lose();
            slot.response = Some(bare_response(0, None, None, Headers::new()));
            self.answered += 1;
        }
    }

    /// A response lost in the middle: its request still takes its turn, marked damaged.
    fn lose_response(&mut self, cur: CurrentResponse) {
        if cur.interim {
            return;
        }
        if let Some(slot) = cur.slot.and_then(|i| self.slots.get_mut(i)) {
            slot.damaged = true;
            slot.response = Some(cur.response);
            self.answered += 1;
        }
    }

    fn build_request(
        &self,
        method: String,
        target: String,
        version: String,
        headers: Headers,
        start: Origin,
    ) -> Request {
        let absolute = (!target.starts_with('/'))
            .then(|| target.split_once("://"))
            .flatten()
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
        let authority = absolute.or_else(|| headers.first("host")).unwrap_or("");
        // The Host header (or an absolute target) names the origin, port included when it is
        // not the default; only without one do the server's address and port stand in.
        let (mut host, mut port) = crate::model::split_authority(authority.trim());
        if host.is_empty() {
            (host, port) = self.info.fallback_authority();
        }
        Request {
            method,
            scheme: self.info.scheme(),
            host,
            port,
            target,
            version: Some(version),
            headers,
            body: Body::default(),
            trailers: Headers::new(),
            timestamp: Some(start.ts),
        }
    }

    /// Takes the oldest request off the queue, keeping the indices into it in step.
    fn pop_slot(&mut self) -> Option<Slot> {
        let slot = self.slots.pop_front()?;
        self.answered = self.answered.saturating_sub(1);
        if let Some(cur) = &mut self.current {
            cur.slot = cur.slot.and_then(|i| i.checked_sub(1));
        }
        Some(slot)
    }

    /// Moves finished exchanges from the front of the queue to `ready`.
    fn emit(&mut self) {
        while let Some(front) = self.slots.front() {
            if !(front.done && front.response.is_some()) {
                break;
            }
            let slot = self.pop_slot().expect("front exists");
            self.finish_slot(slot);
        }
    }

    fn finish_slot(&mut self, slot: Slot) {
        let index = self.next_index;
        self.next_index += 1;
        if slot.damaged {
            self.notes.record(Note::LostToGap, || {
                format!(
                    "{}: packet {}: {} {}",
                    self.info.label, slot.start.packet, slot.request.method, slot.request.target
                )
            });
            return;
        }
        let (label, packet) = (&self.info.label, slot.start.packet);
        let at = || {
            let r = &slot.request;
            format!("{label}: packet {packet}: {} {}", r.method, r.target)
        };
        let (response, drop) = (slot.response.as_ref(), self.opts.drop_incomplete);
        if !settle_incomplete(
            &mut self.notes,
            &slot.request,
            response,
            slot.gapped,
            drop,
            at,
        ) {
            return;
        }
        // Most connections carry one exchange: room for one, not the four a first push makes
        // (a million open flows held 2.8 KB each that way). Later pushes grow by doubling.
        if self.ready.capacity() == 0 {
            self.ready.reserve_exact(1);
        }
        self.ready.push(Ready {
            ts: slot.start.ts,
            index,
            exchange: Exchange {
                request: slot.request,
                response: slot.response,
                source: self.info.source(slot.start),
                extra: serde_json::Map::new(),
            },
        });
    }

    /// The connection ended: completes close-delimited bodies and writes out what waits.
    pub fn finish(&mut self) {
        if let Some(ev) = self.server.finish() {
            self.on_response_event(ev);
        }
        if let Some(ev) = self.client.finish() {
            self.on_request_event(ev);
        }
        if self.server.in_message() {
            if let Some(cur) = self.current.take() {
                self.keep_cut_response(cur);
            }
        }
        if self.client.in_message() {
            if let Some(slot) = self.slots.back_mut().filter(|s| !s.done) {
                let cut = self.client.take_cut();
                self.notes.record(Note::Truncated, || {
                    format!(
                        "{}: packet {}: request cut off{}",
                        self.info.label,
                        slot.start.packet,
                        describe_cut(cut.as_ref().map(|c| &c.1))
                    )
                });
                if let Some((body, cut, _)) = cut {
                    slot.gapped |= !cut.missing.is_empty();
                    slot.request.body = cut_body(body, cut);
                }
                slot.done = true;
            }
        }
        self.client.stop();
        self.server.stop();
        self.emit();
        while let Some(mut slot) = self.slots.pop_front() {
            slot.done = true;
            self.finish_slot(slot);
        }
        self.answered = 0;
    }

    /// The connection ended inside a response: one whose body had begun is kept with what
    /// arrived, marked as cut; one cut inside its head (or an interim one) is lost.
    fn keep_cut_response(&mut self, mut cur: CurrentResponse) {
        let cut = self.server.take_cut();
        self.notes.record(Note::Truncated, || {
            format!(
                "{}: response {} cut off{}",
                self.info.label,
                cur.response.status,
                describe_cut(cut.as_ref().map(|c| &c.1))
            )
        });
        let Some(slot) = cur.slot.and_then(|i| self.slots.get_mut(i)) else {
            return;
        };
        match cut {
            Some((body, cut, last)) if !cur.interim => {
                self.responses += 1;
                slot.gapped |= !cut.missing.is_empty();
                cur.response.body = cut_body(body, cut);
                cur.response.timestamp = last.map(|o| o.ts).or(cur.response.timestamp);
                cur.response.interim = std::mem::take(&mut slot.interim);
                slot.response = Some(cur.response);
            }
            _ => slot.interim.clear(),
        }
    }

    /// Bytes skipped while looking for message starts, both directions.
    pub fn skipped(&self) -> u64 {
        self.client.skipped + self.server.skipped
    }
}

/// Whether a `101` with `response` headers accepts an `Upgrade: h2c` offered by `request`
/// (RFC 7540 §3.2). A 101 must name the protocol it switches to (RFC 9110 §7.8); one that
/// names none is taken to accept the only offer.
fn offers_h2c(request: &Request, response: &Headers) -> bool {
    let h2c = |v: &str| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("h2c"));
    let offered: Vec<&str> = request.headers.all("upgrade").collect();
    if !offered.iter().any(|v| h2c(v)) {
        return false;
    }
    match response.first("upgrade") {
        Some(v) => h2c(v),
        None => offered.len() == 1 && offered[0].split(',').count() == 1,
    }
}

/// A response with these head fields and no body yet.
fn bare_response(
    status: u16,
    reason: Option<String>,
    version: Option<String>,
    headers: Headers,
) -> Response {
    Response {
        status,
        reason,
        version,
        headers,
        trailers: Headers::new(),
        body: Body::default(),
        timestamp: None,
        interim: Vec::new(),
    }
}

/// A finished body; one the body limit cut (what was kept, of the announced length) or with
/// bytes lost in gaps (`missing`, or its end lost) is marked cut, so no writer passes it off
/// as whole and it is not content-decoded.
fn finished_body(
    bytes: Vec<u8>,
    truncated: bool,
    missing: Vec<[u64; 2]>,
    end_lost: bool,
    headers: &Headers,
) -> Body {
    let whole = !truncated && missing.is_empty() && !end_lost;
    if whole {
        return Body::from_bytes(bytes);
    }
    let cut = Cut {
        seen: bytes.len() as u64,
        announced: headers
            .first("content-length")
            .and_then(|v| v.trim().parse().ok()),
        missing,
    };
    cut_body(bytes, cut)
}

fn cut_body(bytes: Vec<u8>, cut: Cut) -> Body {
    Body {
        cut: Some(cut),
        ..Body::from_bytes(bytes)
    }
}

/// `", after 10 of 300 body bytes"`, for the notes on cut messages.
fn describe_cut(cut: Option<&Cut>) -> String {
    cut.map_or_else(String::new, |c| format!(", {c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn origin(packet: u64) -> Origin {
        Origin {
            ts: Timestamp::from_unix(packet as i64, 0),
            packet,
        }
    }

    fn conn() -> Connection {
        Connection::new(
            FlowInfo::for_test("10.0.0.2:80"),
            HttpOptions::default(),
            true,
        )
    }

    /// Feeds `(role, bytes)` in order, finishes, and lists `METHOD target -> status body`.
    fn run(parts: &[(Role, &str)]) -> Vec<String> {
        let mut c = conn();
        for (i, (role, bytes)) in parts.iter().enumerate() {
            c.feed(*role, Chunk::Data(bytes.as_bytes(), origin(i as u64 + 1)));
        }
        c.finish();
        c.ready
            .iter()
            .map(|r| {
                let e = &r.exchange;
                match &e.response {
                    Some(resp) => format!(
                        "{} {} -> {}{:?} {:?}",
                        e.request.method,
                        e.request.target,
                        resp.status,
                        resp.interim,
                        String::from_utf8_lossy(&resp.body.bytes)
                    ),
                    None => format!("{} {} -> none", e.request.method, e.request.target),
                }
            })
            .collect()
    }

    use Role::{Request as C, Response as S};

    macro_rules! http {
        ([$($role:ident $bytes:expr),*] => [$($want:expr),*]) => {
            assert_eq!(run(&[$(($role, $bytes)),*]), vec![$($want.to_string()),*] as Vec<String>)
        };
    }

    /// Issue 15: what real servers send and browsers accept, and RFC 9112 lets a recipient
    /// read: bare LF line ends (§2.2), no reason phrase, with or without its space (§4).
    #[test]
    fn issue_15_bare_lf_and_missing_reasons_are_read() {
        http!([C "GET /a HTTP/1.1\nHost: h\n\n", S "HTTP/1.1 200 OK\nContent-Length: 1\n\nx"]
            => ["GET /a -> 200[] \"x\""]);
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", S "HTTP/1.1 204 \r\n\r\n"]
            => ["GET /a -> 204[] \"\""]);
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", S "HTTP/1.1 204\r\n\r\n"]
            => ["GET /a -> 204[] \"\""]);
    }

    /// Issue 15: a response head a proxy must accept (RFC 9112 §5.1, §5.2) is kept, its field
    /// named without the space, and noted; the same fault in a request is still refused.
    #[test]
    fn issue_15_lenient_response_heads_are_kept_and_noted() {
        let mut c = conn();
        let get = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
        let reply = "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials : true\r\nX-Long: a\r\n b\r\nContent-Length: 2\r\n\r\nok";
        c.feed(Role::Request, Chunk::Data(get.as_bytes(), origin(1)));
        c.feed(Role::Response, Chunk::Data(reply.as_bytes(), origin(2)));
        c.finish();
        let resp = c.ready[0].exchange.response.as_ref().expect("kept");
        assert_eq!(
            resp.headers.first("access-control-allow-credentials"),
            Some("true")
        );
        assert!(
            resp.headers
                .first("x-long")
                .is_some_and(|v| v.starts_with('a'))
        );
        assert_eq!(&resp.body.bytes[..], b"ok");
        assert_eq!(c.notes.count(Note::LenientHead), 1);
        assert_eq!(
            run(&[
                (C, "GET /a HTTP/1.1\r\nHost : h\r\n\r\n"),
                (S, "HTTP/1.1 200 OK\r\n\r\n")
            ]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn pairs_pipelined_requests_in_order() {
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
               S "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 No\r\nContent-Length: 1\r\n\r\nb"]
              => ["GET /a -> 200[] \"a\"", "GET /b -> 404[] \"b\""]);
    }

    #[test]
    fn bodies_end_by_length_chunks_or_close() {
        http!([C "GET / HTTP/1.1\r\n\r\n", S "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n"]
              => ["GET / -> 200[] \"abcde\""]);
        http!([C "GET / HTTP/1.0\r\n\r\n", S "HTTP/1.0 200 OK\r\n\r\nto the ", S "end"]
              => ["GET / -> 200[] \"to the end\""]);
        http!([C "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", S "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"]
              => ["POST /p -> 201[] \"\""]);
    }

    #[test]
    fn chunked_bodies_split_anywhere_read_as_in_one_piece() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let body = "5\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n";
        let whole = run(&[(C, "GET / HTTP/1.1\r\n\r\n"), (S, head), (S, body)]);
        assert_eq!(whole, ["GET / -> 200[] \"hello world\""]);
        for size in 1..body.len() {
            let mut parts = vec![(C, "GET / HTTP/1.1\r\n\r\n"), (S, head)];
            parts.extend(
                body.as_bytes()
                    .chunks(size)
                    .map(|p| (S, std::str::from_utf8(p).expect("ASCII"))),
            );
            assert_eq!(run(&parts), whole, "pieces of {size}");
        }
    }

    #[test]
    fn no_body_for_head_204_304() {
        http!([C "HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
               S "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"]
              => ["HEAD / -> 200[] \"\"", "GET /x -> 304[] \"\""]);
        http!([C "DELETE /d HTTP/1.1\r\n\r\n", S "HTTP/1.1 204 No Content\r\n\r\n"]
              => ["DELETE /d -> 204[] \"\""]);
    }

    #[test]
    fn expect_continue_keeps_the_interim_response() {
        http!([C "PUT /u HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
               S "HTTP/1.1 100 Continue\r\n\r\n",
               C "ok",
               S "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
              => ["PUT /u -> 200[100] \"\""]);
    }

    #[test]
    fn upgrade_stops_parsing_and_unanswered_requests_are_kept() {
        http!([C "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", S "HTTP/1.1 101 Switching\r\n\r\n\x01\x05hello", C "\x01\x05junk"]
              => ["GET /ws -> 101[] \"\""]);
        http!([C "GET /late HTTP/1.1\r\n\r\n"] => ["GET /late -> none"]);
    }

    #[test]
    fn not_http_and_resync_after_gap() {
        let mut c = conn();
        c.feed(C, Chunk::Data(b"\x16\x03\x01\x02\x00\x01", origin(1)));
        assert!(c.not_http());

        let mut c = conn();
        c.feed(C, Chunk::Data(b"GET /a HTTP/1.1\r\n\r\n", origin(1)));
        c.feed(
            S,
            Chunk::Data(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01",
                origin(2),
            ),
        );
        c.feed(S, Chunk::Gap(100));
        c.feed(C, Chunk::Data(b"GET /b HTTP/1.1\r\n\r\n", origin(3)));
        c.feed(
            S,
            Chunk::Data(
                b"junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
                origin(4),
            ),
        );
        c.finish();
        let got: Vec<&str> = c
            .ready
            .iter()
            .map(|r| r.exchange.request.target.as_str())
            .collect();
        // Issue 16: /a's body ended inside the gap; it is kept, marked (see below).
        assert_eq!(got, ["/a", "/b"]);
        assert_eq!(c.notes.count(Note::LostToGap), 0);
        assert_eq!(c.notes.count(Note::GapInBody), 1);
    }

    /// Feeds parts where `Gap(n)` stands for `n` lost bytes, finishes, and lists each exchange
    /// as `target -> status body [cut mark]`, with the notes on gaps.
    fn run_gaps(parts: &[(Role, Result<&str, u64>)], drop_incomplete: bool) -> Vec<String> {
        let opts = HttpOptions {
            drop_incomplete,
            ..HttpOptions::default()
        };
        let mut c = Connection::new(FlowInfo::for_test("10.0.0.2:80"), opts, true);
        for (i, (role, part)) in parts.iter().enumerate() {
            match part {
                Ok(bytes) => c.feed(*role, Chunk::Data(bytes.as_bytes(), origin(i as u64 + 1))),
                Err(n) => c.feed(*role, Chunk::Gap(*n)),
            }
        }
        c.finish();
        let mark = |b: &Body| b.cut.as_ref().map_or(String::new(), |c| format!(" [{c}]"));
        let mut out: Vec<String> = c
            .ready
            .iter()
            .map(|r| {
                let e = &r.exchange;
                let req = format!(
                    "{}{}",
                    e.request.target,
                    if e.request.body.is_empty() && e.request.body.cut.is_none() {
                        String::new()
                    } else {
                        format!(
                            " {:?}{}",
                            String::from_utf8_lossy(&e.request.body.bytes),
                            mark(&e.request.body)
                        )
                    }
                );
                match &e.response {
                    Some(p) => format!(
                        "{req} -> {} {:?}{}",
                        p.status,
                        String::from_utf8_lossy(&p.body.bytes),
                        mark(&p.body)
                    ),
                    None => format!("{req} -> none"),
                }
            })
            .collect();
        for note in [Note::GapInBody, Note::LostToGap, Note::DroppedCutBody] {
            if c.notes.count(note) > 0 {
                out.push(format!("{note:?} {}", c.notes.count(note)));
            }
        }
        out
    }

    macro_rules! gaps {
        ([$($role:ident $part:expr),*] => [$($want:expr),*]) => {
            gaps!([$($role $part),*], false => [$($want),*])
        };
        ([$($role:ident $part:expr),*], $drop:expr => [$($want:expr),*]) => {
            assert_eq!(
                run_gaps(&[$(($role, $part)),*], $drop),
                vec![$($want.to_string()),*] as Vec<String>
            )
        };
    }

    /// Issue 16: wherever a gap falls in a Content-Length body, split however, the exchange is
    /// kept, its bytes are the body's without the missing range, and seen + missing is the
    /// announced length; the next exchange is unharmed when the gap ends inside the body.
    #[test]
    fn issue_16_a_gap_anywhere_in_a_body_keeps_exactly_the_bytes_seen() {
        let body = b"0123456789abcdef";
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let next = "HTTP/1.1 204 No Content\r\n\r\n";
        for at in 0..body.len() {
            for n in 1..=body.len() - at {
                for split in [0, 1, 3] {
                    let mut c = conn();
                    let gets = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
                    c.feed(C, Chunk::Data(gets.as_bytes(), origin(1)));
                    let before = &body[..at];
                    let (b1, b2) = before.split_at(split.min(before.len()));
                    let mut first = head.clone().into_bytes();
                    first.extend_from_slice(b1);
                    c.feed(S, Chunk::Data(&first, origin(2)));
                    c.feed(S, Chunk::Data(b2, origin(3)));
                    c.feed(S, Chunk::Gap(n as u64));
                    let mut rest = body[at + n..].to_vec();
                    rest.extend_from_slice(next.as_bytes());
                    c.feed(S, Chunk::Data(&rest, origin(4)));
                    c.finish();
                    let case = format!("gap of {n} at {at}, split {split}");
                    assert_eq!(c.ready.len(), 2, "{case}");
                    let resp = c.ready[0].exchange.response.as_ref().expect("kept");
                    let mut want = body[..at].to_vec();
                    want.extend_from_slice(&body[at + n..]);
                    assert_eq!(&resp.body.bytes[..], &want[..], "{case}");
                    let cut = resp.body.cut.as_ref().expect("marked");
                    assert_eq!(cut.missing, [[at as u64, (at + n) as u64]], "{case}");
                    assert_eq!(cut.seen + cut.missing_bytes(), body.len() as u64, "{case}");
                    let second = c.ready[1].exchange.response.as_ref().map(|r| r.status);
                    assert_eq!(second, Some(204), "{case}");
                }
            }
        }
    }

    /// Issue 16: a request whose Content-Length is invalid is kept (its head is real) with a
    /// body marked as cut before its first byte, and the next request is found after it; its
    /// response pairs with it.
    #[test]
    fn issue_16_a_request_with_an_invalid_content_length_is_kept_marked() {
        let mut c = conn();
        let post =
            "POST /p HTTP/1.1\r\nContent-Length: 1x\r\n\r\n{\"a\": 1}\r\nGET /b HTTP/1.1\r\n\r\n";
        let answers = "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
        c.feed(C, Chunk::Data(post.as_bytes(), origin(1)));
        c.feed(S, Chunk::Data(answers.as_bytes(), origin(2)));
        c.finish();
        let got: Vec<(String, Option<Cut>, Option<u16>)> = c
            .ready
            .iter()
            .map(|r| {
                let e = &r.exchange;
                (
                    e.request.target.clone(),
                    e.request.body.cut.clone(),
                    e.response.as_ref().map(|p| p.status),
                )
            })
            .collect();
        let unknown = Cut {
            seen: 0,
            announced: None,
            missing: Vec::new(),
        };
        assert_eq!(
            got,
            [
                ("/p".to_owned(), Some(unknown), Some(400)),
                ("/b".to_owned(), None, Some(200))
            ]
        );
        assert_eq!(c.notes.count(Note::UnparseableHead), 1);
    }

    /// Issue 16: a response whose Content-Length is invalid (RFC 9112 §6.3 item 5) has no
    /// body end to trust: it is counted as malformed, its request stays without a response,
    /// and the next response is found and paired, instead of being read as its body.
    #[test]
    fn issue_16_an_invalid_content_length_skips_one_response_not_the_rest() {
        for bad in ["1x8", "5, 7", "99999999999999999999"] {
            let mut c = conn();
            let gets = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
            let first = format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\nhello\r\n");
            let second = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
            c.feed(C, Chunk::Data(gets.as_bytes(), origin(1)));
            c.feed(S, Chunk::Data(first.as_bytes(), origin(2)));
            c.feed(S, Chunk::Data(second.as_bytes(), origin(3)));
            c.finish();
            let got: Vec<String> = c
                .ready
                .iter()
                .map(|r| {
                    let e = &r.exchange;
                    let resp = e
                        .response
                        .as_ref()
                        .map(|p| (p.status, p.body.bytes.to_vec()));
                    format!("{} {resp:?}", e.request.target)
                })
                .collect();
            assert_eq!(got, ["/a None", "/b Some((404, [110, 111]))"], "{bad}");
            assert_eq!(c.notes.count(Note::UnparseableHead), 1, "{bad}");
            assert_eq!(c.responses, 1, "{bad}");
        }
    }

    /// Issue 16: a body with a gap keeps its exchange; only the bytes seen are kept, and the
    /// mark says which offsets of the body as sent are missing. `--drop-incomplete` drops it.
    #[test]
    fn issue_16_bodies_with_gaps_are_kept_and_marked() {
        let get = |t: &str| format!("GET {t} HTTP/1.1\r\nHost: h\r\n\r\n");
        let (a, b) = (get("/a"), get("/b"));
        let len10 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        let ok1 = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
        // Inside a Content-Length body: the rest of the connection is untouched.
        gaps!([C Ok(&a), S Ok(len10), S Ok("01"), S Err(3), S Ok("56789"), C Ok(&b), S Ok(ok1)]
            => ["/a -> 200 \"0156789\" [7 of 10 body bytes seen, 3 lost in gaps at 2..5]",
                "/b -> 200 \"b\"", "GapInBody 1"]);
        // Two gaps, the second the body's last bytes exactly: the next head is found.
        gaps!([C Ok(&a), S Ok(len10), S Err(2), S Ok("234"), S Err(5), C Ok(&b), S Ok(ok1)]
            => ["/a -> 200 \"234\" [3 of 10 body bytes seen, 7 lost in gaps at 0..2, 5..10]",
                "/b -> 200 \"b\"", "GapInBody 1"]);
        // A gap past the body's end takes the next response's head: /b is lost with it.
        gaps!([C Ok(&a), C Ok(&b), S Ok(len10), S Ok("0123"), S Err(40), S Ok("tail")]
            => ["/a -> 200 \"0123\" [4 of 10 body bytes seen, 6 lost in gaps at 4..10]",
                "/b -> none", "GapInBody 1"]);
        // Inside a chunk's data, the decoded body's offsets; a gap over chunk framing ends
        // the body where it was, its end unknown.
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        gaps!([C Ok(&a), S Ok(chunked), S Ok("8\r\nab"), S Err(3), S Ok("fgh\r\n0\r\n\r\n")]
            => ["/a -> 200 \"abfgh\" [5 body bytes seen, 3 lost in gaps at 2..5]", "GapInBody 1"]);
        gaps!([C Ok(&a), S Ok(chunked), S Ok("2\r\nab\r\n"), S Err(7), S Ok("0\r\n\r\n"), C Ok(&b), S Ok(ok1)]
            => ["/a -> 200 \"ab\" [after 2 body bytes]", "/b -> 200 \"b\"", "GapInBody 1"]);
        // A close-delimited body: everything to the end is the body.
        let close = "HTTP/1.0 200 OK\r\n\r\n";
        gaps!([C Ok("GET /c HTTP/1.0\r\n\r\n"), S Ok(close), S Ok("head"), S Err(4), S Ok("tail")]
            => ["/c -> 200 \"headtail\" [8 body bytes seen, 4 lost in gaps at 4..8]", "GapInBody 1"]);
        // A request body, the same way.
        let post = "POST /p HTTP/1.1\r\nContent-Length: 6\r\n\r\nab";
        gaps!([C Ok(post), C Err(2), C Ok("ef"), S Ok(ok1)]
            => ["/p \"abef\" [4 of 6 body bytes seen, 2 lost in gaps at 2..4] -> 200 \"b\"", "GapInBody 1"]);
        // --drop-incomplete drops such an exchange, counted as lost to the gap.
        gaps!([C Ok(&a), S Ok(len10), S Ok("01"), S Err(3), S Ok("56789"), C Ok(&b), S Ok(ok1)], true
            => ["/b -> 200 \"b\"", "LostToGap 1"]);
    }

    /// Issue 16: a body cut off by the end of the connection (a reset, the capture's end) is
    /// kept, marked as cut; `--drop-incomplete` drops the exchange, counted with its reason,
    /// whichever body it is and however it was framed.
    #[test]
    fn issue_16_drop_incomplete_drops_bodies_cut_off_by_the_end_of_the_connection() {
        let get = |t: &str| format!("GET {t} HTTP/1.1\r\nHost: h\r\n\r\n");
        let (a, b) = (get("/a"), get("/b"));
        let ok1 = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
        let len10 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123";
        gaps!([C Ok(&a), S Ok(ok1), C Ok(&b), S Ok(len10)]
            => ["/a -> 200 \"b\"", "/b -> 200 \"0123\" [after 4 of 10 body bytes]"]);
        gaps!([C Ok(&a), S Ok(ok1), C Ok(&b), S Ok(len10)], true
            => ["/a -> 200 \"b\"", "DroppedCutBody 1"]);
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n";
        gaps!([C Ok(&a), S Ok(chunked)], true => ["DroppedCutBody 1"]);
        // A request cut off after the server answered it early (a 413 to an upload).
        let post = "POST /p HTTP/1.1\r\nContent-Length: 6\r\n\r\nab";
        let early = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n";
        gaps!([C Ok(post), S Ok(early)]
            => ["/p \"ab\" [after 2 of 6 body bytes] -> 413 \"\""]);
        gaps!([C Ok(post), S Ok(early)], true => ["DroppedCutBody 1"]);
    }
}
