//! ClickHouse's compression on the wire, both directions:
//!
//! - request bodies sent with `decompress=1` are ClickHouse's compressed-block format: each
//!   block is a CityHash128 (v1.0.2) checksum, a method byte (0x82 LZ4, 0x02 none), the
//!   compressed size (with the 9-byte header) and the uncompressed size, then the data;
//! - responses to `Accept-Encoding: lz4` (with `enable_http_compression = 1`) are an LZ4
//!   frame (`Content-Encoding: lz4`).

use std::io::Write;

use bytes::{Buf, Bytes};

use crate::exception::{codes, Exception};

const CHECKSUM: usize = 16;
const HEADER: usize = 9;
const METHOD_NONE: u8 = 0x02;
const METHOD_LZ4: u8 = 0x82;
const METHOD_ZSTD: u8 = 0x90;

/// Decodes a request body of compressed blocks into the bytes they hold.
pub fn decompress_blocks(mut body: &[u8]) -> Result<Vec<u8>, Exception> {
    let mut out = Vec::new();
    while !body.is_empty() {
        if body.len() < CHECKSUM + HEADER {
            return Err(Exception::new(
                codes::CANNOT_READ_ALL_DATA,
                "Cannot read all data: truncated compressed block header",
            ));
        }
        let mut checksum_bytes = &body[..CHECKSUM];
        let expected = checksum_bytes.get_u128_le();
        let mut header = &body[CHECKSUM..CHECKSUM + HEADER];
        let method = header.get_u8();
        let compressed_size = header.get_u32_le() as usize;
        let size = header.get_u32_le() as usize;
        if compressed_size < HEADER || body.len() < CHECKSUM + compressed_size {
            return Err(Exception::new(
                codes::CANNOT_READ_ALL_DATA,
                "Cannot read all data: truncated compressed block",
            ));
        }
        let block = &body[CHECKSUM..CHECKSUM + compressed_size];
        let actual = cityhash_rs::cityhash_102_128(block).rotate_right(64);
        if actual != expected {
            return Err(Exception::new(
                codes::CHECKSUM_DOESNT_MATCH,
                format!("Checksum doesn't match: corrupted data. Reference: {expected:032x}. Actual: {actual:032x}"),
            ));
        }
        let data = &block[HEADER..];
        match method {
            METHOD_LZ4 => {
                let decoded = lz4_flex::block::decompress(data, size).map_err(|e| {
                    Exception::new(codes::CANNOT_DECOMPRESS, format!("Cannot decompress LZ4 block: {e}"))
                })?;
                out.extend_from_slice(&decoded);
            }
            METHOD_NONE => out.extend_from_slice(data),
            METHOD_ZSTD => {
                return Err(Exception::new(
                    codes::CANNOT_DECOMPRESS,
                    "the stand-in does not decode ZSTD blocks",
                ))
            }
            other => {
                return Err(Exception::new(
                    codes::CANNOT_DECOMPRESS,
                    format!("Unknown compression method: {other:#04x}"),
                ))
            }
        }
        body = &body[CHECKSUM + compressed_size..];
    }
    Ok(out)
}

/// Encodes one compressed block (LZ4), as a client sending `decompress=1` does.
pub fn compress_block(data: &[u8]) -> Vec<u8> {
    let compressed = lz4_flex::block::compress(data);
    let mut block = Vec::with_capacity(CHECKSUM + HEADER + compressed.len());
    block.extend_from_slice(&[0; CHECKSUM]);
    block.push(METHOD_LZ4);
    block.extend_from_slice(&((HEADER + compressed.len()) as u32).to_le_bytes());
    block.extend_from_slice(&(data.len() as u32).to_le_bytes());
    block.extend_from_slice(&compressed);
    let checksum = cityhash_rs::cityhash_102_128(&block[CHECKSUM..]).rotate_right(64);
    block[..CHECKSUM].copy_from_slice(&checksum.to_le_bytes());
    block
}

/// A response body encoder: plain, or one LZ4 frame flushed in pieces as data arrives.
pub enum Encoder {
    Plain(Vec<u8>),
    Lz4(Box<lz4_flex::frame::FrameEncoder<Vec<u8>>>),
}

impl Encoder {
    pub fn new(lz4: bool) -> Encoder {
        if lz4 {
            Encoder::Lz4(Box::new(lz4_flex::frame::FrameEncoder::new(Vec::new())))
        } else {
            Encoder::Plain(Vec::new())
        }
    }

    /// Adds bytes and returns whatever is ready to send.
    pub fn push(&mut self, data: &[u8]) -> std::io::Result<Bytes> {
        match self {
            Encoder::Plain(_) => Ok(Bytes::copy_from_slice(data)),
            Encoder::Lz4(frame) => {
                frame.write_all(data)?;
                frame.flush()?;
                Ok(Bytes::from(std::mem::take(frame.get_mut())))
            }
        }
    }

    /// Ends the body and returns the last bytes.
    pub fn finish(self) -> std::io::Result<Bytes> {
        match self {
            Encoder::Plain(rest) => Ok(Bytes::from(rest)),
            Encoder::Lz4(frame) => frame.finish().map(Bytes::from).map_err(std::io::Error::other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_corruption_is_caught() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let mut body = compress_block(&data[..100_000]);
        body.extend(compress_block(&data[100_000..]));
        assert_eq!(decompress_blocks(&body).unwrap(), data);
        let mut corrupt = body.clone();
        corrupt[40] ^= 1;
        assert_eq!(decompress_blocks(&corrupt).unwrap_err().code, codes::CHECKSUM_DOESNT_MATCH);
        assert_eq!(decompress_blocks(&body[..body.len() - 1]).unwrap_err().code, codes::CANNOT_READ_ALL_DATA);
    }

    #[test]
    fn lz4_frames_decode_with_a_standard_decoder() {
        let mut encoder = Encoder::new(true);
        let mut wire = Vec::new();
        wire.extend(encoder.push(b"hello ").unwrap());
        wire.extend(encoder.push(b"world").unwrap());
        wire.extend(encoder.finish().unwrap());
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut lz4_flex::frame::FrameDecoder::new(&wire[..]), &mut decoded).unwrap();
        assert_eq!(decoded, b"hello world");
    }
}
