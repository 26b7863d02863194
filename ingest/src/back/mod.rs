//! The collector's back half: write-ahead log, batcher and warehouse writer.
