// torch_zip.cpp: see torch_zip.hpp. The format is PKWARE's APPNOTE (end of
// central directory, central directory headers, local headers, zip64 extra
// field 0x0001); torch.save writes each record stored, with its size known up
// front, so deflate and data descriptors are refused rather than supported.
#include "torch_zip.hpp"

#include "shim.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace lp {

namespace {

constexpr uint32_t kEocdSig = 0x06054b50, kZip64EocdSig = 0x06064b50, kZip64LocatorSig = 0x07064b50,
                   kCentralSig = 0x02014b50, kLocalSig = 0x04034b50;
constexpr uint64_t kMaxEntries = 1u << 20;        // a resnet checkpoint has a few hundred
constexpr uint64_t kMaxCentralBytes = 256u << 20; // the directory itself

uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

} // namespace

TorchZip::TorchZip(const std::string &path) : path_(path) {
    const char *p = path.c_str();
    file_.reset(fopen(p, "rb"));
    f_ = file_.get();
    if (!f_) fail(LP_STATUS_IO, "cannot open %s: %s", p, strerror(errno));
    if (fseeko(f_, 0, SEEK_END) != 0) fail(LP_STATUS_IO, "cannot seek in %s: %s", p, strerror(errno));
    file_size_ = (uint64_t)ftello(f_);

    // End of central directory: the last 22..22+65535 bytes.
    uint64_t tail_len = file_size_ < 22 + 65535 ? file_size_ : 22 + 65535;
    std::vector<uint8_t> tail(tail_len);
    if (tail_len < 22 || fseeko(f_, (off_t)(file_size_ - tail_len), SEEK_SET) != 0 ||
        fread(tail.data(), 1, tail_len, f_) != tail_len)
        fail(LP_STATUS_BAD_ARG, "%s: not a zip file (no end of central directory)", p);
    int64_t eocd = -1;
    for (int64_t at = (int64_t)tail_len - 22; at >= 0; --at)
        if (le(&tail[(size_t)at], 4) == kEocdSig && (uint64_t)at + 22 + le(&tail[(size_t)at + 20], 2) == tail_len) {
            eocd = at;
            break;
        }
    if (eocd < 0) fail(LP_STATUS_BAD_ARG, "%s: not a zip file (no end of central directory)", p);
    const uint8_t *e = &tail[(size_t)eocd];
    uint64_t n_entries = le(e + 10, 2), cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
    if (n_entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
        // zip64: a locator just before the EOCD points at the zip64 EOCD record
        if (eocd < 20 || le(e - 20, 4) != kZip64LocatorSig)
            fail(LP_STATUS_BAD_ARG, "%s: zip64 sizes without a zip64 locator", p);
        uint64_t rec = le(e - 20 + 8, 8);
        uint8_t z[56];
        if (rec > file_size_ || file_size_ - rec < sizeof z || fseeko(f_, (off_t)rec, SEEK_SET) != 0 ||
            fread(z, 1, sizeof z, f_) != sizeof z || le(z, 4) != kZip64EocdSig)
            fail(LP_STATUS_BAD_ARG, "%s: bad zip64 end of central directory", p);
        n_entries = le(z + 32, 8);
        cd_size = le(z + 40, 8);
        cd_offset = le(z + 48, 8);
    }
    if (n_entries > kMaxEntries) fail(LP_STATUS_BAD_ARG, "%s: %llu zip entries (at most %llu)", p,
                                      (unsigned long long)n_entries, (unsigned long long)kMaxEntries);
    if (cd_size > kMaxCentralBytes || cd_offset > file_size_ || cd_size > file_size_ - cd_offset)
        fail(LP_STATUS_BAD_ARG, "%s: the zip central directory lies outside the file", p);
    std::vector<uint8_t> cd(cd_size);
    if (fseeko(f_, (off_t)cd_offset, SEEK_SET) != 0 || fread(cd.data(), 1, cd_size, f_) != cd_size)
        fail(LP_STATUS_IO, "%s: cannot read the zip central directory", p);

    size_t at = 0;
    for (uint64_t i = 0; i < n_entries; ++i) {
        if (cd_size - at < 46 || le(&cd[at], 4) != kCentralSig)
            fail(LP_STATUS_BAD_ARG, "%s: zip central directory entry %llu is malformed", p, (unsigned long long)i);
        const uint8_t *h = &cd[at];
        uint64_t flags = le(h + 8, 2), method = le(h + 10, 2), crc = le(h + 16, 4);
        uint64_t csize = le(h + 20, 4), usize = le(h + 24, 4), local = le(h + 42, 4);
        size_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
        if (cd_size - at - 46 < name_len + extra_len + comment_len)
            fail(LP_STATUS_BAD_ARG, "%s: zip central directory entry %llu runs past the directory", p,
                 (unsigned long long)i);
        std::string name((const char *)h + 46, name_len);
        // zip64 extra field: the 8-byte values of the 32-bit fields set to 0xffffffff, in order
        for (size_t x = 46 + name_len, xend = x + extra_len; x + 4 <= xend;) {
            uint64_t id = le(h + x, 2), len = le(h + x + 2, 2);
            if (x + 4 + len > xend) fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' has a malformed extra field", p, name.c_str());
            if (id == 1) {
                size_t y = x + 4, yend = y + len;
                for (uint64_t *v : {&usize, &csize, &local})
                    if (*v == 0xffffffff) {
                        if (y + 8 > yend) fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' has a short zip64 field", p, name.c_str());
                        *v = le(h + y, 8);
                        y += 8;
                    }
            }
            x += 4 + len;
        }
        at += 46 + name_len + extra_len + comment_len;

        if (method != 0 || (flags & 1))
            fail(LP_STATUS_UNSUPPORTED, "%s: zip entry '%s' is %s; torch.save stores entries uncompressed", p,
                 name.c_str(), (flags & 1) ? "encrypted" : "compressed");
        if (csize != usize)
            fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' declares %llu bytes stored but %llu bytes of data", p,
                 name.c_str(), (unsigned long long)csize, (unsigned long long)usize);
        uint8_t lh[30];
        if (local > file_size_ || file_size_ - local < sizeof lh || fseeko(f_, (off_t)local, SEEK_SET) != 0 ||
            fread(lh, 1, sizeof lh, f_) != sizeof lh || le(lh, 4) != kLocalSig)
            fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' has no local header at offset %llu", p, name.c_str(),
                 (unsigned long long)local);
        uint64_t data = local + 30 + le(lh + 26, 2) + le(lh + 28, 2);
        if (data > file_size_ || usize > file_size_ - data)
            fail(LP_STATUS_BAD_ARG,
                 "%s: zip entry '%s' declares %llu bytes but the file holds only %llu after its header", p,
                 name.c_str(), (unsigned long long)usize,
                 (unsigned long long)(data > file_size_ ? 0 : file_size_ - data));

        // torch.save puts every record under one folder ("archive/data.pkl")
        size_t slash = name.find('/');
        if (slash == std::string::npos || slash == 0)
            fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' is not inside a folder (not a torch.save file)", p, name.c_str());
        if (folder_.empty()) folder_ = name.substr(0, slash);
        else if (name.compare(0, slash, folder_) != 0 || slash != folder_.size())
            fail(LP_STATUS_BAD_ARG, "%s: zip entries in two folders ('%s' and '%s')", p, folder_.c_str(),
                 name.substr(0, slash).c_str());
        entries_[name.substr(slash + 1)] = Entry{data, usize, (uint32_t)crc};
    }
}

const TorchZip::Entry &TorchZip::entry(const std::string &name) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
        fail(LP_STATUS_BAD_ARG, "%s: no zip entry '%s/%s'", path_.c_str(), folder_.c_str(), name.c_str());
    return it->second;
}

uint64_t TorchZip::size(const std::string &name) const { return entry(name).size; }

void TorchZip::read(const std::string &name, void *dst, uint64_t n) const {
    const Entry &e = entry(name);
    if (n > e.size) fail(LP_STATUS_BAD_ARG, "%s: reading %llu bytes of the %llu-byte entry '%s'", path_.c_str(),
                         (unsigned long long)n, (unsigned long long)e.size, name.c_str());
    if (n == 0) return;
    if (fseeko(f_, (off_t)e.data_offset, SEEK_SET) != 0 || fread(dst, 1, n, f_) != n)
        fail(LP_STATUS_IO, "%s: cannot read zip entry '%s'", path_.c_str(), name.c_str());
    if (n == e.size) {
        // zlib's crc32 takes a uInt length: feed it in pieces
        uLong crc = crc32(0L, Z_NULL, 0);
        const Bytef *b = (const Bytef *)dst;
        for (uint64_t done = 0; done < n;) {
            uInt piece = (uInt)(n - done < (1u << 30) ? n - done : (1u << 30));
            crc = crc32(crc, b + done, piece);
            done += piece;
        }
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION // the fuzz build: mutated bytes must reach the pickle VM
        if ((uint32_t)crc != e.crc)
#else
        if (false)
#endif
            fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' is corrupt (CRC-32 mismatch)", path_.c_str(), name.c_str());
    }
}

std::vector<uint8_t> TorchZip::read_all(const std::string &name, uint64_t max_size) const {
    uint64_t n = size(name);
    if (n > max_size)
        fail(LP_STATUS_BAD_ARG, "%s: zip entry '%s' has %llu bytes (at most %llu)", path_.c_str(), name.c_str(),
             (unsigned long long)n, (unsigned long long)max_size);
    std::vector<uint8_t> out(n);
    read(name, out.data(), n);
    return out;
}

} // namespace lp
