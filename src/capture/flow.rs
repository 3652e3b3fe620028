//! The flow table: one [`Flow`] per TCP connection, keyed by the [`FlowKey`] both directions
//! share, numbered by ordinal in order of first sight. A flow holds its two half-streams (TCP
//! reassembly) and, once the client is known, the [`Session`] that parses its bytes.

use super::batch::Seg;
use super::connection::{FlowInfo, HttpOptions, Role};
use super::http1;
use super::session::{self, Session};
use super::stats::Stats;
use super::tcp_reassembly::{Chunk, Endpoint, FlowKey, HalfStream, Side, TcpHeader};
use super::tls::keylog::SharedKeys;
use crate::model::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug)]
pub(super) struct Flow {
    pub(super) key: FlowKey,
    pub(super) ordinal: u64,
    halves: [HalfStream; 2],
    client: Option<Side>,
    pub(super) session: Option<Session>,
    pub(super) last_seen: Timestamp,
    payload_bytes: u64,
    syn_from_client: bool,
    reassembly_ns: u64,
    http_ns: u64,
    /// A FIN or RST was seen when packets were sorted into flows.
    closing: bool,
    /// Replaced in the flow table by a new connection on the same ports.
    retired: bool,
}

impl Flow {
    fn new(key: FlowKey, ordinal: u64, ts: Timestamp) -> Self {
        Self {
            key,
            ordinal,
            halves: [HalfStream::default(), HalfStream::default()],
            client: None,
            session: None,
            last_seen: ts,
            payload_bytes: 0,
            syn_from_client: false,
            reassembly_ns: 0,
            http_ns: 0,
            closing: false,
            retired: false,
        }
    }

    fn finished(&self) -> bool {
        let [a, b] = &self.halves;
        (a.finished() && b.finished()) || a.rst_seen || b.rst_seen
    }

    /// Decides which side is the client, from the handshake or else the first data.
    fn pick_client(&mut self, seg: &Seg, data: &[u8]) {
        if self.client.is_some() {
            return;
        }
        if seg.tcp.syn {
            self.client = Some(if seg.tcp.ack.is_some() {
                seg.side.other()
            } else {
                seg.side
            });
            self.syn_from_client = seg.tcp.ack.is_none();
            return;
        }
        if data.is_empty() {
            return;
        }
        self.client = Some(if data.starts_with(b"HTTP/") {
            seg.side.other()
        } else if let [22, 3, _, _, _, hello @ (1 | 2), ..] = data {
            // A ClientHello (1) comes from the client, a ServerHello (2) from the server.
            if *hello == 2 {
                seg.side.other()
            } else {
                seg.side
            }
        } else if http1::looks_like_start(Role::Request, data) != Some(false) {
            seg.side
        } else {
            // Neither: guess the lower port is the server's.
            let port = |s: Side| self.key.addr(s).port();
            if port(seg.side) < port(seg.side.other()) {
                seg.side.other()
            } else {
                seg.side
            }
        });
    }

    fn session(
        &mut self,
        file: &Arc<str>,
        opts: HttpOptions,
        keys: &SharedKeys,
    ) -> Option<&mut Session> {
        let client = self.client?;
        if self.session.is_none() {
            let server = self.key.addr(client.other());
            let label = format!(
                "{} -> {}",
                Endpoint(self.key.addr(client)),
                Endpoint(server)
            );
            let from_start = self.syn_from_client;
            self.session = Some(Session::new(
                FlowInfo {
                    file: file.clone(),
                    label,
                    server,
                    tls: None,
                },
                opts,
                from_start,
                keys.clone(),
            ));
        }
        self.session.as_mut()
    }

    pub(super) fn process(
        &mut self,
        segs: &[Seg],
        buffers: [&[u8]; 2],
        file: &Arc<str>,
        opts: HttpOptions,
        keys: &SharedKeys,
    ) {
        // Clock readings are chained: the time from one reading to the next is reassembly's,
        // except while the parser is fed.
        let mut last = Instant::now();
        let (mut http_ns, mut total_ns) = (0u64, 0u64);
        for seg in segs {
            let data = &buffers[usize::from(seg.in_batch)][seg.start..seg.start + seg.len];
            self.payload_bytes += data.len() as u64;
            self.pick_client(seg, data);
            let Some(client) = self.client else { continue };
            let role = |side: Side| {
                if side == client {
                    Role::Request
                } else {
                    Role::Response
                }
            };
            let Some(session) = self.session(file, opts, keys) else {
                continue;
            };
            if session.stopped() {
                // Not HTTP, upgraded or tunnelled: only FIN/RST still matter.
                let h = &mut self.halves[seg.side.index()];
                h.push(&seg.tcp, &[], seg.origin, &mut |_| {});
                continue;
            }
            let session = self.session.as_mut().expect("created above");
            let mut feed = |r: Role, c: Chunk<'_>| {
                let t = Instant::now();
                session.feed(r, c);
                let now = Instant::now();
                http_ns += (now - t).as_nanos() as u64;
                total_ns += (now - last).as_nanos() as u64;
                last = now;
            };
            if let Some(ack) = seg.tcp.ack {
                let other = seg.side.other();
                self.halves[other.index()].acknowledged(ack, &mut |c| feed(role(other), c));
            }
            let side = seg.side;
            self.halves[side.index()]
                .push(&seg.tcp, data, seg.origin, &mut |c| feed(role(side), c));
        }
        total_ns += last.elapsed().as_nanos() as u64;
        self.http_ns += http_ns;
        self.reassembly_ns += total_ns.saturating_sub(http_ns);
    }

    /// Flushes buffered data and ends the connection.
    pub(super) fn finish(&mut self) {
        let Some(client) = self.client else { return };
        let Some(session) = self.session.as_mut() else {
            return;
        };
        for side in [client, client.other()] {
            let role = if side == client {
                Role::Request
            } else {
                Role::Response
            };
            self.halves[side.index()].flush(&mut |c| session.feed(role, c));
        }
        session.finish();
    }

    /// Adds this flow's counts to `stats` once it is over.
    pub(super) fn account(&self, stats: &mut Stats) {
        for h in &self.halves {
            stats.tcp.duplicate_bytes += h.stats.duplicate_bytes;
            stats.tcp.out_of_order_segments += h.stats.out_of_order;
            stats.tcp.gap_bytes += h.stats.gap_bytes;
        }
        stats.timings.reassembly_ms += self.reassembly_ns as f64 / 1e6;
        stats.timings.http_ms += self.http_ns as f64 / 1e6;
        if self.payload_bytes == 0 {
            stats.tcp.empty_flows += 1;
            return;
        }
        stats.tcp.flows += 1;
        let label = || format!("{} <-> {}", Endpoint(self.key.low), Endpoint(self.key.high));
        match &self.session {
            Some(session) => session.account(stats, self.payload_bytes, label),
            None => session::not_http(stats, self.payload_bytes, label),
        }
    }

    /// The time of the oldest byte that could still become part of an exchange.
    pub(super) fn oldest_pending(&self) -> Option<Timestamp> {
        let conn = self.session.as_ref().and_then(Session::oldest_pending);
        let buffered = self
            .halves
            .iter()
            .filter_map(HalfStream::oldest_buffered)
            .min();
        [conn, buffered].into_iter().flatten().min()
    }
}

/// Adds the TLS sessions `flow` established to `keys`. Called in flow order between the
/// parallel stages, so what a connection can resume does not depend on the threads.
pub(super) fn learn_sessions(keys: &SharedKeys, flow: &mut Flow) {
    let Some(session) = flow.session.as_mut() else {
        return;
    };
    let learned = session.take_learned();
    if learned.is_empty() {
        return;
    }
    let mut keys = match keys.write() {
        Ok(keys) => keys,
        Err(poisoned) => poisoned.into_inner(),
    };
    for (by, master) in learned {
        keys.learn(by, master);
    }
}

/// Every open flow by ordinal, and the ordinal each port pair's segments go to now.
///
/// Invariant: `table` maps a key only to a flow in `flows` (or to one taken out for the batch
/// and put back); a retired flow is in `flows` but no longer in `table`.
#[derive(Debug, Default)]
pub(super) struct FlowTable {
    table: HashMap<FlowKey, u64>,
    flows: HashMap<u64, Flow>,
    next_ordinal: u64,
}

impl FlowTable {
    /// The ordinal of the flow a segment of `key` with `tcp`'s flags belongs to; a flow is
    /// opened at `ts` when there is none. A FIN or RST marks the flow as closing.
    pub(super) fn assign(&mut self, key: FlowKey, tcp: &TcpHeader, ts: Timestamp) -> u64 {
        match self.table.get(&key) {
            Some(&id) => {
                // A new SYN after a FIN or RST reuses the port pair for a new connection: the
                // old flow stays in `flows` (its segments of this batch still go to it) and is
                // finished at the end of the batch.
                let flow = self.flows.get_mut(&id);
                let reopened =
                    tcp.syn && tcp.ack.is_none() && flow.as_ref().is_some_and(|f| f.closing);
                if reopened {
                    if let Some(old) = flow {
                        old.retired = true;
                    }
                    self.open(key, ts)
                } else {
                    if tcp.fin || tcp.rst {
                        if let Some(f) = flow {
                            f.closing = true;
                        }
                    }
                    id
                }
            }
            None => {
                let id = self.open(key, ts);
                if let Some(f) = self.flows.get_mut(&id).filter(|_| tcp.fin || tcp.rst) {
                    f.closing = true;
                }
                id
            }
        }
    }

    fn open(&mut self, key: FlowKey, ts: Timestamp) -> u64 {
        let id = self.next_ordinal;
        self.next_ordinal += 1;
        self.table.insert(key, id);
        self.flows.insert(id, Flow::new(key, id, ts));
        id
    }

    /// Open flows.
    pub(super) fn len(&self) -> usize {
        self.flows.len()
    }

    /// Takes flow `id` out to work on it; [`FlowTable::put_back`] returns it.
    pub(super) fn take(&mut self, id: u64) -> Option<Flow> {
        self.flows.remove(&id)
    }

    /// Returns a flow taken out with [`FlowTable::take`].
    pub(super) fn put_back(&mut self, flow: Flow) {
        self.flows.insert(flow.ordinal, flow);
    }

    /// Flow `id`, if open.
    pub(super) fn get_mut(&mut self, id: u64) -> Option<&mut Flow> {
        self.flows.get_mut(&id)
    }

    /// The open flows' ordinals, in order.
    pub(super) fn ordinals(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The time of the oldest byte any open flow could still turn into an exchange.
    pub(super) fn oldest_pending(&self) -> Option<Timestamp> {
        self.flows.values().filter_map(Flow::oldest_pending).min()
    }

    /// Removes and returns, in ordinal order, the flows to finish at `now`: closed, retired,
    /// silent for more than `idle_secs`, not seen in this batch when `crowded`, or all of them
    /// at the end (`eof`).
    pub(super) fn take_ending(
        &mut self,
        eof: bool,
        now: Timestamp,
        idle_secs: u64,
        crowded: bool,
    ) -> Vec<Flow> {
        let timeout = i64::try_from(idle_secs).unwrap_or(i64::MAX);
        let mut ending: Vec<u64> = self
            .flows
            .values()
            .filter(|f| {
                eof || f.retired
                    || f.finished()
                    || f.last_seen.unix_secs().saturating_add(timeout) < now.unix_secs()
                    || (crowded && f.last_seen < now)
            })
            .map(|f| f.ordinal)
            .collect();
        ending.sort_unstable();
        let mut done: Vec<Flow> = Vec::new();
        for id in ending {
            if let Some(f) = self.flows.remove(&id) {
                if self.table.get(&f.key) == Some(&id) {
                    self.table.remove(&f.key);
                }
                done.push(f);
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::tcp_reassembly::SeqNumber;

    const CLIENT: &str = "10.0.0.1:5000";
    const SERVER: &str = "10.0.0.2:80";

    /// A segment's flow key from `src` to `dst` and its header with `flags` (`S`, `A`, `F`,
    /// `R`).
    fn seg(src: &str, dst: &str, flags: &str) -> (FlowKey, TcpHeader) {
        let (src, dst) = (src.parse().expect("addr"), dst.parse().expect("addr"));
        let tcp = TcpHeader {
            src_port: 0,
            dst_port: 0,
            seq: SeqNumber(0),
            ack: flags.contains('A').then_some(SeqNumber(0)),
            syn: flags.contains('S'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            header_len: 20,
        };
        (FlowKey::new(src, dst).0, tcp)
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(secs, 0)
    }

    /// Assigns a segment at second `secs`, returning its flow's ordinal.
    fn assign(t: &mut FlowTable, src: &str, dst: &str, flags: &str, secs: i64) -> u64 {
        let (key, tcp) = seg(src, dst, flags);
        t.assign(key, &tcp, at(secs))
    }

    fn ending(t: &mut FlowTable, eof: bool, now: i64, crowded: bool) -> Vec<u64> {
        let done = t.take_ending(eof, at(now), 300, crowded);
        done.iter().map(|f| f.ordinal).collect()
    }

    #[test]
    fn both_directions_of_a_connection_share_one_flow() {
        let mut t = FlowTable::default();
        assert_eq!(assign(&mut t, CLIENT, SERVER, "S", 1), 0);
        assert_eq!(assign(&mut t, SERVER, CLIENT, "SA", 1), 0);
        assert_eq!(assign(&mut t, "10.0.0.3:5000", SERVER, "S", 1), 1);
        assert_eq!(t.ordinals(), [0, 1]);
        assert_eq!(ending(&mut t, false, 2, false), Vec::<u64>::new());
    }

    #[test]
    fn a_new_syn_after_a_fin_opens_a_new_flow_and_retires_the_old() {
        let mut t = FlowTable::default();
        assign(&mut t, CLIENT, SERVER, "S", 1);
        assign(&mut t, CLIENT, SERVER, "FA", 2);
        // A retransmitted SYN-ACK is not a new connection.
        assert_eq!(assign(&mut t, SERVER, CLIENT, "SA", 2), 0);
        assert_eq!(assign(&mut t, CLIENT, SERVER, "S", 3), 1);
        assert_eq!(assign(&mut t, SERVER, CLIENT, "A", 3), 1);
        assert_eq!(ending(&mut t, false, 3, false), [0]);
        // Finishing the retired flow leaves the port pair with its successor.
        assert_eq!(assign(&mut t, CLIENT, SERVER, "A", 4), 1);
    }

    #[test]
    fn flows_end_when_idle_crowded_or_at_the_end_in_ordinal_order() {
        let mut t = FlowTable::default();
        assign(&mut t, CLIENT, SERVER, "A", 1);
        assign(&mut t, "10.0.0.3:5000", SERVER, "A", 100);
        assign(&mut t, "10.0.0.4:5000", SERVER, "A", 400);
        assert_eq!(ending(&mut t, false, 301, false), Vec::<u64>::new());
        assert_eq!(ending(&mut t, false, 302, false), [0]);
        assert_eq!(ending(&mut t, false, 400, true), [1]);
        assert_eq!(t.len(), 1);
        assert_eq!(ending(&mut t, true, 400, false), [2]);
        // A port pair whose flow ended opens a new one.
        assert_eq!(assign(&mut t, CLIENT, SERVER, "A", 500), 3);
    }
}
