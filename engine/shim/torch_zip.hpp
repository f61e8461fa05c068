// torch_zip.hpp: the zip container of a torch.save file, read with explicit
// checks before any allocation (docs/spec/checkpoint-files.md §1). Only what
// torch.save writes is accepted: stored (uncompressed) entries under one
// top-level folder, optionally with zip64 sizes. Every entry's data must lie
// inside the file, so no entry can make us allocate more than the file holds.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lp {

class TorchZip {
  public:
    // Throws lp::Error naming the path on anything that is not a valid
    // torch.save zip.
    explicit TorchZip(const std::string &path);
    TorchZip(const TorchZip &) = delete;
    TorchZip &operator=(const TorchZip &) = delete;

    // Size of "<folder>/<name>"; throws when there is no such entry.
    uint64_t size(const std::string &name) const;
    // Read the first `n` bytes of the entry (n <= size(name)) into `dst`,
    // checking the CRC-32 when the whole entry is read.
    void read(const std::string &name, void *dst, uint64_t n) const;
    std::vector<uint8_t> read_all(const std::string &name, uint64_t max_size) const;

  private:
    struct Entry {
        uint64_t data_offset, size;
        uint32_t crc;
    };
    const Entry &entry(const std::string &name) const;

    std::string path_, folder_;
    // A member, not closed in a destructor: the constructor throws on a bad
    // file, and only fully built members are destroyed then (a FILE leaked
    // per refused file was the fuzzer's first finding).
    std::unique_ptr<FILE, int (*)(FILE *)> file_{nullptr, fclose};
    FILE *f_ = nullptr;
    uint64_t file_size_ = 0;
    std::map<std::string, Entry> entries_; // names without the folder
};

} // namespace lp
