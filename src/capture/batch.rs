//! The pipeline's batching: segments are gathered in a batch, grouped by flow at its end (in
//! capture order within each flow), and the exchanges the flows finish wait in an
//! [`OrderQueue`] until no open flow can still produce an earlier one. Batches are cut by
//! packet and byte counts only, so they are the same for any thread count.

use super::connection::Ready;
use super::stats::HttpStats;
use super::tcp_reassembly::{Origin, Side, TcpHeader};
use super::{BATCH_BYTES, MAX_BATCH_BYTES, MIN_BATCH_FLOWS};
use crate::model::{Exchange, Timestamp};
use std::collections::BTreeMap;

/// One TCP segment of a batch, its payload left where it lies.
#[derive(Debug)]
pub(super) struct Seg {
    pub(super) tcp: TcpHeader,
    pub(super) side: Side,
    /// The payload: in the reader's batch buffer, or copied into the pipeline's own.
    pub(super) in_batch: bool,
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) origin: Origin,
}

/// The batch's segments by flow ordinal, in capture order within each flow.
pub(super) fn group_by_flow(segs: impl Iterator<Item = (u64, Seg)>) -> BTreeMap<u64, Vec<Seg>> {
    let mut groups: BTreeMap<u64, Vec<Seg>> = BTreeMap::new();
    for (id, seg) in segs {
        groups.entry(id).or_default().push(seg);
    }
    groups
}

/// The size of the next batch, after one that touched `flows` flows: doubled (up to
/// [`MAX_BATCH_BYTES`]) while too few flows run in parallel, halved (down to [`BATCH_BYTES`])
/// once there are plenty.
pub(super) fn next_batch_bytes(current: usize, flows: usize) -> usize {
    if flows < MIN_BATCH_FLOWS {
        (current * 2).min(MAX_BATCH_BYTES)
    } else if flows > 4 * MIN_BATCH_FLOWS {
        (current / 2).max(BATCH_BYTES)
    } else {
        current
    }
}

/// The sort key of an exchange: request time, flow ordinal, index within the flow.
type Key = (Timestamp, u64, u64);

/// Finished exchanges waiting for their turn in the output order.
#[derive(Debug, Default)]
pub(super) struct OrderQueue(BTreeMap<Key, Exchange>);

impl OrderQueue {
    /// Queues the exchanges flow `ordinal` finished, counting them in `http`.
    pub(super) fn push(&mut self, http: &mut HttpStats, ordinal: u64, ready: Vec<Ready>) {
        for r in ready {
            http.exchanges += 1;
            if r.exchange.response.is_none() {
                http.incomplete += 1;
            }
            self.0.insert((r.ts, ordinal, r.index), r.exchange);
        }
    }

    /// Exchanges waiting.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Takes, in order, the exchanges whose requests began before `watermark` (all of them
    /// for `None`).
    pub(super) fn release(&mut self, watermark: Option<Timestamp>) -> Vec<Exchange> {
        let mut out = Vec::new();
        while let Some(entry) = self.0.first_entry() {
            if watermark.is_some_and(|w| entry.key().0 >= w) {
                break;
            }
            out.push(entry.remove());
        }
        out
    }

    /// Takes the `n` oldest exchanges, in order, whatever the watermark.
    pub(super) fn release_oldest(&mut self, n: usize) -> Vec<Exchange> {
        (0..n)
            .map_while(|_| self.0.pop_first().map(|(_, ex)| ex))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, Headers, Request, Response, Scheme, Source};

    macro_rules! next {
        ($current:expr, $flows:expr => $want:expr) => {
            assert_eq!(next_batch_bytes($current, $flows), $want)
        };
    }

    #[test]
    fn batches_grow_while_few_flows_run_and_shrink_back_when_many_do() {
        next!(BATCH_BYTES, 1 => 2 * BATCH_BYTES);
        next!(MAX_BATCH_BYTES, 0 => MAX_BATCH_BYTES);
        next!(4 * BATCH_BYTES, MIN_BATCH_FLOWS => 4 * BATCH_BYTES);
        next!(4 * BATCH_BYTES, 4 * MIN_BATCH_FLOWS => 4 * BATCH_BYTES);
        next!(4 * BATCH_BYTES, 4 * MIN_BATCH_FLOWS + 1 => 2 * BATCH_BYTES);
        next!(BATCH_BYTES, 1000 => BATCH_BYTES);
    }

    /// An exchange named `target`, its request sent at second `ts`.
    fn ready(target: &str, ts: i64, index: u64, answered: bool) -> Ready {
        let ts = Timestamp::from_unix(ts, 0);
        let request = Request {
            method: "GET".into(),
            scheme: Scheme::Http,
            host: "h".into(),
            port: None,
            target: target.into(),
            version: None,
            headers: Headers::new(),
            body: Body::default(),
            trailers: Headers::new(),
            timestamp: Some(ts),
        };
        let response = answered.then(|| Response {
            status: 200,
            reason: None,
            version: None,
            headers: Headers::new(),
            trailers: Headers::new(),
            body: Body::default(),
            timestamp: None,
            interim: Vec::new(),
        });
        Ready {
            ts,
            index,
            exchange: Exchange {
                request,
                response,
                source: Source::default(),
                extra: serde_json::Map::new(),
            },
        }
    }

    fn targets(out: Vec<Exchange>) -> Vec<String> {
        out.into_iter().map(|e| e.request.target).collect()
    }

    #[test]
    fn exchanges_leave_in_request_time_then_flow_then_index_order() {
        let (mut queue, mut http) = (OrderQueue::default(), HttpStats::default());
        queue.push(
            &mut http,
            1,
            vec![ready("/b1", 5, 0, true), ready("/b2", 7, 1, false)],
        );
        queue.push(
            &mut http,
            0,
            vec![ready("/a1", 5, 0, true), ready("/a2", 9, 1, true)],
        );
        assert_eq!((http.exchanges, http.incomplete), (4, 1));
        let early = queue.release(Some(Timestamp::from_unix(7, 0)));
        assert_eq!(targets(early), ["/a1", "/b1"]);
        assert_eq!(queue.len(), 2);
        assert_eq!(targets(queue.release(None)), ["/b2", "/a2"]);
    }

    #[test]
    fn an_overfull_queue_gives_up_its_oldest_first() {
        let (mut queue, mut http) = (OrderQueue::default(), HttpStats::default());
        let ready = (0..5)
            .map(|i| ready(&format!("/{i}"), 10 - i, 0, true))
            .collect();
        queue.push(&mut http, 0, ready);
        assert_eq!(targets(queue.release_oldest(2)), ["/4", "/3"]);
        assert_eq!(targets(queue.release_oldest(9)), ["/2", "/1", "/0"]);
    }
}
