#pragma once
// Where the orphan sweep reads next in Prefect's list of runs in one state. Prefect pages
// that list (sorted by id) and one pass reads at most `max_pages` pages, to bound what a pass
// asks of Prefect. If every pass started at offset 0, a cluster with more runs in a state
// than one pass reads would have the same first runs looked at again and again, and an
// orphan further down the list would never be found. So each pass goes on where the last one
// stopped, and the pass that reaches the end (a short page) makes the next one start over:
// every run is looked at within ceil(runs / (max_pages * page_size)) + 1 passes. Runs that
// start or end meanwhile shift the offsets, so a run at a page boundary can be missed by one
// round and is seen in the next one.
// Thread-safety: not thread-safe (the sweeper thread owns it).

#include <cstddef>

namespace lifeline::reaper::reap {

class SweepCursor {
 public:
  SweepCursor(int page_size, int max_pages) : page_size_(page_size), max_pages_(max_pages) {}

  // Starts a pass; its first page is at offset().
  void begin_pass() {
    pass_start_ = offset_;
    pages_ = 0;
  }
  // A page of `rows` runs was read. Returns true with `next_offset` set when the pass reads
  // another page, false when the pass is over.
  bool page_read(std::size_t rows, int& next_offset) {
    ++pages_;
    if (rows < static_cast<std::size_t>(page_size_)) {
      offset_ = 0;  // the end: the next pass starts over
      return false;
    }
    offset_ += page_size_;
    if (pages_ >= max_pages_) return false;  // the next pass goes on from here
    next_offset = offset_;
    return true;
  }
  // The pass failed part-way: the next one repeats it (also right before any page was read).
  void pass_failed() { offset_ = pass_start_; }

  int offset() const { return offset_; }

 private:
  int page_size_;
  int max_pages_;
  int offset_ = 0;
  int pass_start_ = 0;
  int pages_ = 0;
};

}  // namespace lifeline::reaper::reap
