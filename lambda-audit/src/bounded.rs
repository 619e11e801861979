//! Reading input files within stated bounds (docs/design.md): a file is
//! judged by its metadata before it is opened (a FIFO would block, a device
//! never ends), then read up to a size cap, or streamed line by line with a
//! cap on each line, so memory never follows what an input claims.

use std::io::{BufRead, Read};
use std::path::Path;

/// A small regular file's bytes: refused, with the reason, if it is not a
/// regular file (by its metadata, before it is opened) or holds more than
/// `cap` bytes (never read past `cap`).
pub fn read_small_file(file: &Path, cap: u64) -> std::result::Result<Vec<u8>, String> {
    let meta = std::fs::symlink_metadata(file).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!(
            "{}, not a regular file",
            crate::atomic::special_kind(&meta)
        ));
    }
    let too_big = || format!("larger than {cap} bytes, which no such file needs");
    if meta.len() > cap {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Calls `each` with every line of `reader` (without its newline) of at most
/// `max` bytes, until `each` returns false. A longer line is passed over
/// whole without ever being held: memory is `max` plus the buffer, whatever
/// the input's size.
pub fn for_each_line(
    reader: impl Read,
    max: usize,
    mut each: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<()> {
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        let newline = buffer.iter().position(|b| *b == b'\n');
        let chunk = &buffer[..newline.unwrap_or(buffer.len())];
        if !too_long {
            too_long = line.len() + chunk.len() > max;
            if too_long {
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            if !too_long && !each(&line) {
                return Ok(());
            }
            line.clear();
            too_long = false;
        }
    }
    if !too_long && !line.is_empty() {
        each(&line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for_each_line(input, max, |l| {
            all.push(l.to_vec());
            true
        })
        .unwrap();
        all
    }

    #[test]
    fn long_lines_are_passed_over_and_the_rest_kept() {
        assert_eq!(lines(b"a\nbb\n\nccc", 8), [&b"a"[..], b"bb", b"", b"ccc"]);
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 200_000));
        input.extend(b"\nafter\nlast-too-long-xxxxxxxxxxx");
        assert_eq!(lines(&input, 10), [&b"short"[..], b"after"]);
    }

    #[test]
    fn each_may_stop_the_reading() {
        let mut seen = 0;
        for_each_line(&b"1\n2\n3\n"[..], 8, |_| {
            seen += 1;
            seen < 2
        })
        .unwrap();
        assert_eq!(seen, 2);
    }
}
