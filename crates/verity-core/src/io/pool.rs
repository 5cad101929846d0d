//! A small process-wide pool of byte buffers.
//!
//! Streaming stages fill a buffer on one thread and drop it on another (a chunk is read on the
//! reader thread and parsed on a worker; an encoded batch is filled on a worker and written on
//! the calling thread). Allocating a fresh multi-megabyte buffer each time made the kernel zero
//! new pages for every chunk; a pool hands the same few buffers around instead.

use std::sync::Mutex;

/// Buffers kept for reuse, with a cap on how many and how large.
pub struct BufferPool {
    buffers: Mutex<Vec<Vec<u8>>>,
    max_buffers: usize,
    max_bytes: usize,
}

impl BufferPool {
    /// A pool keeping at most `max_buffers` buffers of at most `max_bytes` capacity each.
    pub const fn new(max_buffers: usize, max_bytes: usize) -> BufferPool {
        BufferPool {
            buffers: Mutex::new(Vec::new()),
            max_buffers,
            max_bytes,
        }
    }

    /// An empty buffer with room for at least `capacity` bytes, reused when one is free.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = self
            .buffers
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        buffer.reserve(capacity);
        buffer
    }

    /// Give a buffer back (dropped instead when the pool is full or the buffer grew too large,
    /// e.g. for one huge line).
    pub fn give(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() == 0 || buffer.capacity() > self.max_bytes {
            return;
        }
        buffer.clear();
        if let Ok(mut pool) = self.buffers.lock() {
            if pool.len() < self.max_buffers {
                pool.push(buffer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_oversized_ones_are_dropped() {
        let pool = BufferPool::new(2, 1024);
        let mut a = pool.take(100);
        a.extend_from_slice(b"abc");
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take(10);
        assert!(b.is_empty() && b.capacity() >= 100);
        assert_eq!(b.as_ptr(), ptr, "the same allocation is reused");
        pool.give(vec![0; 4096]); // too large: not kept
        assert!(pool.take(0).capacity() == 0);
    }
}
