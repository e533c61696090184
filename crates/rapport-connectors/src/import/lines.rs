//! Physical lines read as bytes, each with its 1-based number, length-capped, and a replay
//! queue so the CSV reader can re-read lines that a broken quote swallowed.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, ErrorKind, Read};

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Term {
    /// The last line of the input, with no line break.
    None,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl Term {
    pub(crate) fn bytes(self) -> &'static [u8] {
        match self {
            Term::None => b"",
            Term::Lf => b"\n",
            Term::CrLf => b"\r\n",
        }
    }
}

/// One physical line.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// 1-based line number.
    pub no: u64,
    /// The content without its line break; at most `cap` bytes.
    pub bytes: Vec<u8>,
    pub term: Term,
    /// The content's full length when it was over the cap (the rest was skipped).
    pub overlong: Option<u64>,
}

impl Line {
    /// Stored length including the line break.
    pub(crate) fn len_with_term(&self) -> usize {
        self.bytes.len() + self.term.bytes().len()
    }
}

pub(crate) struct Lines<R> {
    inner: BufReader<R>,
    replay: VecDeque<Line>,
    next_no: u64,
    bytes_read: u64,
    eof: bool,
    cap: usize,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(reader: R, cap: usize) -> Self {
        Lines {
            inner: BufReader::with_capacity(64 * 1024, reader),
            replay: VecDeque::new(),
            next_no: 1,
            bytes_read: 0,
            eof: false,
            cap,
        }
    }

    /// Bytes consumed from the reader so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Number of physical lines read from the reader so far.
    pub(crate) fn lines_read(&self) -> u64 {
        self.next_no - 1
    }

    /// The start of the unread input, without consuming it (at most one buffer).
    pub(crate) fn peek(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(self.inner.buffer())
    }

    /// Skips `n` bytes of the peeked input (a byte-order mark).
    pub(crate) fn skip(&mut self, n: usize) {
        self.inner.consume(n);
        self.bytes_read += n as u64;
    }

    /// Puts lines back to be read again, in order, before anything else.
    pub(crate) fn unread(&mut self, lines: impl DoubleEndedIterator<Item = Line>) {
        for line in lines.rev() {
            self.replay.push_front(line);
        }
    }

    /// The next line, from the replay queue first. `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line>> {
        if let Some(line) = self.replay.pop_front() {
            return Ok(Some(line));
        }
        if self.eof {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        let mut total: u64 = 0;
        let mut any = false;
        let mut ended = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                self.eof = true;
                break;
            }
            any = true;
            let (take, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            // Room for the cap plus `\r\n`, so a line exactly at the cap is whole.
            let room = (self.cap + 2).saturating_sub(bytes.len());
            bytes.extend_from_slice(&buf[..take.min(room)]);
            total += take as u64;
            self.inner.consume(take);
            self.bytes_read += take as u64;
            if found {
                ended = true;
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        let no = self.next_no;
        self.next_no += 1;
        let mut term = Term::None;
        let mut content_len = total;
        if ended {
            content_len -= 1;
            term = Term::Lf;
            if bytes.len() as u64 == total {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                    content_len -= 1;
                    term = Term::CrLf;
                }
            }
        }
        let overlong = if content_len > self.cap as u64 {
            bytes.truncate(self.cap);
            Some(content_len)
        } else {
            None
        };
        Ok(Some(Line {
            no,
            bytes,
            term,
            overlong,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], cap: usize) -> Vec<Line> {
        let mut lines = Lines::new(input, cap);
        let mut out = Vec::new();
        while let Some(l) = lines.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn splits_and_numbers_lines() {
        let ls = all(b"a\r\nbb\n\nccc", 100);
        let got: Vec<_> = ls
            .iter()
            .map(|l| (l.no, l.bytes.as_slice(), l.term))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, &b"a"[..], Term::CrLf),
                (2, &b"bb"[..], Term::Lf),
                (3, &b""[..], Term::Lf),
                (4, &b"ccc"[..], Term::None),
            ]
        );
        assert!(all(b"", 10).is_empty());
        assert_eq!(all(b"x\n", 10).len(), 1);
    }

    #[test]
    fn caps_long_lines_and_goes_on() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        let ls = all(&input, 10);
        assert_eq!(ls[0].overlong, Some(50));
        assert_eq!(ls[0].bytes.len(), 10);
        assert_eq!(ls[1].bytes, b"ok");
        assert_eq!(ls[1].no, 2);
        // exactly at the cap is fine, with either line break
        let ls = all(b"0123456789\r\n0123456789\n", 10);
        assert!(
            ls.iter()
                .all(|l| l.overlong.is_none() && l.bytes.len() == 10)
        );
        assert_eq!(ls[0].term, Term::CrLf);
    }

    #[test]
    fn replays_lines() {
        let mut lines = Lines::new(&b"1\n2\n3\n"[..], 10);
        let a = lines.next_line().unwrap().unwrap();
        let b = lines.next_line().unwrap().unwrap();
        lines.unread(vec![a, b].into_iter());
        let nos: Vec<u64> = std::iter::from_fn(|| lines.next_line().unwrap())
            .map(|l| l.no)
            .collect();
        assert_eq!(nos, vec![1, 2, 3]);
        assert_eq!(lines.lines_read(), 3);
        assert_eq!(lines.bytes_read(), 6);
    }
}
