/// write_file_atomic(): new files get 0666 less the umask (what fopen() gives), also when several
/// threads write at once, and the process umask is left as it was. The old writer read the umask
/// by setting it to 0 and back, so a second thread could read 0 and leave it there.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>  // for strtol
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nanobragg/io/errors.hpp"
#include "nanobragg/io/images.hpp"

namespace nb = nanobragg;

namespace {
// The process umask without changing it (Linux reports it in /proc/self/status); -1 if unknown.
int current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) return int(std::strtol(line.c_str() + 6, nullptr, 8));
  }
  return -1;
}

class AtomicWrite : public ::testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nb-atomic-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    folder_ = tmpl;
    // The test sets the mask it checks against; the writer itself never touches it.
    previous_ = umask(GetParam());
  }
  void TearDown() override {
    umask(previous_);
    for (const std::string& f : written_) std::remove(f.c_str());
    rmdir(folder_.c_str());
  }
  std::string folder_;
  std::vector<std::string> written_;
  mode_t previous_ = 022;
};
}  // namespace

TEST_P(AtomicWrite, TwoThreadsGetTheUmaskMode) {
  const mode_t mask = GetParam();
  constexpr int kFiles = 200;
  for (int t = 0; t < 2; ++t)
    for (int i = 0; i < kFiles; ++i) written_.push_back(folder_ + "/t" + std::to_string(t) + "_" + std::to_string(i));
  auto writer = [&](int t) {
    const std::string data(4096, char('a' + t));
    for (int i = 0; i < kFiles; ++i) {
      const std::string& path = written_[std::size_t(t) * kFiles + i];
      nb::write_file_atomic(path, "head", data.data(), data.size());
      nb::write_file_atomic(path, data.data(), data.size());  // over an existing file: the swap path
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  for (const std::string& path : written_) {
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask) << path;
    EXPECT_EQ(st.st_size, 4096) << path;
  }
  EXPECT_EQ(current_umask(), int(mask)) << "the process umask changed";
  // Nothing but the outputs is left in the folder: no temporaries.
  int outputs = 0, temporaries = 0;
  DIR* dir = opendir(folder_.c_str());
  ASSERT_NE(dir, nullptr);
  while (const dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    outputs += name[0] != '.';
    temporaries += name.rfind(".nanobragg-", 0) == 0;
  }
  closedir(dir);
  EXPECT_EQ(outputs, 2 * kFiles);
  EXPECT_EQ(temporaries, 0);
}

TEST_P(AtomicWrite, FailureLeavesNoFile) {
  const std::string path = folder_ + "/missing_folder/out.bin";
  EXPECT_THROW(nb::write_file_atomic(path, "x", 1), nb::InputError);
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
  EXPECT_EQ(current_umask(), int(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Umasks, AtomicWrite, ::testing::Values(mode_t(022), mode_t(077)));
