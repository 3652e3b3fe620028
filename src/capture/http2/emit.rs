//! Streams written out: a stream's exchange once, when it closes (kept with its holes marked,
//! or dropped with a note), and every stream still open when the connection ends.

use super::frame::FrameParser;
use super::stream::{self, Dropped};
use super::{Connection, Note, Ready, Role, side};
use crate::capture::settle_incomplete;

impl Connection {
    /// Removes a stream and writes out its exchange.
    pub(super) fn close(&mut self, id: u32) {
        self.emit(id, false);
        self.streams.remove(&id);
    }

    /// Writes out stream `id`'s exchange once; `tunnel` when a CONNECT got its 2xx.
    pub(super) fn emit(&mut self, id: u32, tunnel: bool) {
        let label = &self.info.label;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.emitted {
            return;
        }
        s.emitted = true;
        match s.dropped {
            Some(Dropped::Gap) => {
                let what = s.describe();
                self.notes.record(Note::LostToGap, || {
                    format!("{label}: packet {}: {what}", s.start.packet)
                });
                return;
            }
            Some(Dropped::Counted) => return,
            None => {}
        }
        if !s.request.head {
            return;
        }
        // A response that began and was cut is kept, its body marked as cut, unless
        // --drop-incomplete.
        let complete = s.response.head && (s.response.ended || tunnel);
        let what = s.describe();
        if !complete && s.reset {
            self.notes
                .record(Note::Http2Reset, || format!("{label}: stream {id}: {what}"));
        }
        let gapped = s.request.gapped() || s.response.gapped();
        let exchange = s.to_exchange(&self.info);
        let at = || format!("{label}: packet {}: {what}", s.start.packet);
        let (response, drop) = (exchange.response.as_ref(), self.opts.drop_incomplete);
        if !settle_incomplete(
            &mut self.notes,
            &exchange.request,
            response,
            gapped,
            drop,
            at,
        ) {
            return;
        }
        self.ready.push(Ready {
            ts: s.start.ts,
            index: s.index,
            exchange,
        });
    }

    /// The connection ended: writes out every stream still open, in creation order.
    pub fn finish(&mut self) {
        for role in [Role::Request, Role::Response] {
            let i = side(role);
            let mut frames = std::mem::replace(&mut self.halves[i].frames, FrameParser::new(false));
            frames.end_resync(&mut |e| self.on_event(role, e));
            self.halves[i].frames = frames;
            let h = &mut self.halves[i];
            if h.block.take().is_some() || h.frames.in_frame() {
                self.notes.record(Note::Truncated, || {
                    format!("{}: {} frame cut off", self.info.label, role.direction())
                });
            }
            h.frames.stop();
        }
        let mut open: Vec<(u64, u32)> = self.streams.iter().map(|(&k, s)| (s.index, k)).collect();
        open.sort_unstable();
        for (_, id) in open {
            if let Some(s) = self.streams.get(&id) {
                // A body whose rest was lost in a gap is noted as such, not as cut off here.
                let cut = |m: &stream::Message| m.head && !m.ended && !m.end_lost;
                let which = if cut(&s.request) {
                    Some("request")
                } else if cut(&s.response) {
                    Some("response")
                } else {
                    None
                };
                if let (Some(which), None, false) = (which, s.dropped, s.emitted) {
                    let what = s.describe();
                    self.notes.record(Note::Truncated, || {
                        format!("{}: stream {id}: {which} cut off: {what}", self.info.label)
                    });
                }
            }
            self.close(id);
        }
    }
}
