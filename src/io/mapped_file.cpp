#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "util/error.h"

namespace dsv2 {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Reads bytes [begin, end) of fd into dst + begin; an empty string, or why it failed.
std::string read_range(int fd, char* dst, std::size_t begin, std::size_t end) {
  for (std::size_t done = begin; done < end;) {
    const ssize_t n = ::pread(fd, dst + done, std::min<std::size_t>(end - done, kHugePage * 64), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "read failed at byte " + std::to_string(done) + ": " + (n < 0 ? std::strerror(errno) : "file shrank while reading");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Bytes [begin, end) of fd into dst + begin, after writing one byte of each huge page of the
// range: the kernel then allocates the range as whole huge pages before this read adds the file
// to the page cache. Left to the read's own page faults, the allocations interleave with the
// page cache filling up and fragmenting free memory, and whatever cannot be compacted in time
// falls back to 4 KiB pages, which decode pays for in TLB misses (nested page walks in a VM).
// Lite Q8_0 (15.6 GiB) on a 24 GiB, 2-core VM, loads alternated (docs/benchmarks.md): huge pages
// 11.6-14.7 -> 15.9-16.1 of 16.4 GB, load 13.8-33.2 -> 10.2-16.6 s, decode roofline share
// 70-79% -> 78-81%.
std::string fault_in_and_read(int fd, char* dst, std::size_t begin, std::size_t end) {
  for (std::size_t o = begin; o < end; o += kHugePage) static_cast<volatile char*>(dst)[o] = 0;
  return read_range(fd, dst, begin, end);
}

// Collapses whatever part of the loaded range did not get huge pages into them
// (madvise(MADV_COLLAPSE), Linux 6.1+; elsewhere a no-op). Where the first try finds no memory
// to collapse into — the page cache holds it, mostly this very file, which a model over half the
// RAM evicts on its next load anyway — the file's cached pages are dropped and it tries again.
// Lite Q8_0 (15.6 GiB) on a 24 GiB, 2-core VM, after another 8.2 GiB file was read: huge pages
// 14.2-14.4 of 16.8 GB after the reads, 16.3 after this (0.7 s to drop, 0.5 s to collapse);
// without dropping the cache the collapse gives ENOMEM. MADV_COLLAPSE ignores the system's THP
// setting, so where an administrator set it to `never` nothing is collapsed (nor dropped).
void collapse_into_huge_pages(int fd, void* p, std::size_t bytes) {
  std::string thp;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), thp);
  if (thp.empty() || thp.find("[never]") != std::string::npos) return;
  constexpr int kMadvCollapse = 25;  // <linux/mman.h>; glibc 2.36 does not name it
  if (::madvise(p, bytes, kMadvCollapse) == 0 || (errno != ENOMEM && errno != EAGAIN)) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::madvise(p, bytes, kMadvCollapse);  // advice only: whatever it cannot collapse stays as it is
}

// Anonymous memory, rounded up to whole huge pages and advised to use them, filled from fd by one
// thread per core: most of a load is the kernel zeroing each fresh page on first touch, and that
// work runs on whichever core touches the page (Lite Q4_0, 8.2 GiB, 2-core VM: 25.4 -> 11.8 s to
// the first token from a warm page cache).
void* load_into_anonymous_memory(const std::string& path, int fd, std::size_t size, std::size_t* mapped) {
  *mapped = (size + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::mmap(nullptr, *mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw Error(path + ": cannot allocate " + std::to_string(size) + " bytes to load it: " + std::strerror(errno));
  ::madvise(p, *mapped, MADV_HUGEPAGE);  // advice only: without THP support it is ignored
  // Slices of whole huge pages, so no page is touched by two threads; no more threads than pages.
  const std::size_t pages = *mapped / kHugePage;
  const std::size_t n_threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, std::min<std::size_t>(16, pages));
  const std::size_t slice = (pages + n_threads - 1) / n_threads * kHugePage;
  std::vector<std::string> errors(n_threads);
  std::vector<std::thread> threads;
  threads.reserve(n_threads);  // so only the thread constructor can throw, and that is caught
  for (std::size_t t = 0; t < n_threads; ++t) {
    const std::size_t begin = std::min(size, t * slice), end = std::min(size, begin + slice);
    try {
      threads.emplace_back([&, t, begin, end] { errors[t] = fault_in_and_read(fd, static_cast<char*>(p), begin, end); });
    } catch (const std::system_error&) {  // no thread to be had: this one reads the slice
      errors[t] = fault_in_and_read(fd, static_cast<char*>(p), begin, end);
    }
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors)
    if (!e.empty()) {
      ::munmap(p, *mapped);
      throw Error(path + ": " + e);
    }
  collapse_into_huge_pages(fd, p, *mapped);
  ::mprotect(p, *mapped, PROT_READ);
  return p;
}

}  // namespace

MappedFile::MappedFile(const std::string& path, FileMode mode) : path_(path), mode_(mode) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0 && mode == FileMode::Load) {
    try {
      data_ = static_cast<const std::uint8_t*>(load_into_anonymous_memory(path, fd, size_, &mapped_bytes_));
    } catch (...) {
      ::close(fd);
      throw;
    }
  } else if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error(path + ": mmap failed: " + std::strerror(errno));
    }
    data_ = static_cast<const std::uint8_t*>(p);
    mapped_bytes_ = size_;
  }
  ::close(fd);
}

void MappedFile::set_writable(bool writable) {
  check(mode_ == FileMode::Load, path_ + ": a memory-mapped file cannot be made writable");
  if (data_ == nullptr) return;
  if (::mprotect(const_cast<std::uint8_t*>(data_), mapped_bytes_, writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0)
    throw Error(path_ + ": mprotect failed: " + std::strerror(errno));
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), mapped_bytes_);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dsv2
