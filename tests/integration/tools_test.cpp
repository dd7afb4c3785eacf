// SPDX-License-Identifier: GPL-2.0-or-later
// Everyday /proc tools (procps, psmisc, lsof) run in a private mount namespace with procfsd over
// /proc tell what they tell on /proc, about live processes this test starts itself.
//
// Every tool runs natively and "mirrored" (`unshare -m sh -c 'mount --bind MNT /proc && exec
// TOOL ARGS'`). The machine is shared (other tests, compilers): lists of processes are compared
// as a sandwich (native, mirrored, native again) so that processes coming and going between the
// runs do not count, and counters are compared within a tolerance or against both native runs.
//
// Known limits of any FUSE procfs, which the tests take into account (see the comments there):
// - magic links (exe, cwd, fd/N, ...) are plain symlinks with the kernel's text: a tool that
//   stat()s through them reaches whatever an absolute text names in the caller's namespace; a
//   relative one (socket:[N], net:[N]) procfsd answers with the object's attributes, but not
//   for pipes and anonymous inodes, nor deleted files (README, "What differs"): their lsof TYPE
//   is "unknown";
// - an fd of /proc/<pid> on the mount is not a procfs pid directory, so the kernel does not take
//   it as a pidfd (pidfd_send_signal gives EBADF): psmisc's killall signals through such fds.
#include <catch2/catch_test_macros.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

struct Output {
    std::string out;
    int status = -1;
};

std::string quote(const std::string& s)
{
    std::string q = "'";
    for (char c : s) {
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

enum class Stderr { discard, merge };

// Runs a tool on the real /proc (setup empty), or in a private mount namespace where `setup` (a
// shell command, e.g. mounting something over /proc) ran first. stdin is /dev/null; stderr is
// dropped or merged into stdout.
Output run_in_ns(const std::string& setup, const std::vector<std::string>& argv, Stderr err)
{
    std::string cmd;
    if (!setup.empty())
        cmd = "unshare -m sh -c " + quote(setup + " && exec \"$@\"") + " sh";
    for (auto& a : argv)
        cmd += (cmd.empty() ? "" : " ") + quote(a);
    cmd += " </dev/null";
    cmd += err == Stderr::merge ? " 2>&1" : " 2>/dev/null";
    Output o;
    o.out = run_command(cmd, &o.status);
    return o;
}

Output native(const std::vector<std::string>& argv, Stderr err = Stderr::discard)
{
    return run_in_ns("", argv, err);
}

// The tool with procfsd's mount `mnt` bound over /proc.
Output mirrored_at(const std::string& mnt, const std::vector<std::string>& argv, Stderr err = Stderr::discard)
{
    return run_in_ns("mount --bind " + quote(mnt) + " /proc", argv, err);
}

Output mirrored(const TestMount& m, const std::vector<std::string>& argv, Stderr err = Stderr::discard)
{
    return mirrored_at(m.path(), argv, err);
}

// The same command line run as uid/gid nobody, without supplementary groups.
std::vector<std::string> as_nobody(std::vector<std::string> argv)
{
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return argv;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

std::vector<std::string> tokens(const std::string& line)
{
    std::vector<std::string> t;
    std::istringstream in(line);
    std::string w;
    while (in >> w)
        t.push_back(w);
    return t;
}

std::set<pid_t> pid_set(const std::string& text)
{
    std::set<pid_t> pids;
    for (auto& t : tokens(text))
        pids.insert(static_cast<pid_t>(std::stol(t)));
    return pids;
}

bool exists(pid_t pid) { return lstat_errno("/proc/" + std::to_string(pid)) == 0; }

// Lists of pids from native, mirrored, native again: every pid both native runs saw was alive
// during the mirrored run and must be there; a pid only the mirrored run saw must be gone by
// now (a process that lived between the native runs, like the mirrored tool itself). One
// assertion each, naming the first few offenders.
void check_sandwich(const std::set<pid_t>& before, const std::set<pid_t>& mirror, const std::set<pid_t>& after)
{
    std::vector<pid_t> missing, extra;
    for (pid_t p : before)
        if (after.count(p) && !mirror.count(p))
            missing.push_back(p);
    for (pid_t p : mirror)
        if (!before.count(p) && !after.count(p) && exists(p))
            extra.push_back(p);
    auto some = [](const std::vector<pid_t>& v) {
        std::string s;
        for (size_t i = 0; i < v.size() && i < 10; ++i)
            s += std::to_string(v[i]) + " ";
        return s + (v.size() > 10 ? "..." : "");
    };
    INFO(before.size() << " and " << after.size() << " listed natively, " << mirror.size() << " mirrored");
    INFO("listed by both native runs, not mirrored: " << some(missing));
    CHECK(missing.empty());
    INFO("listed only mirrored, yet alive: " << some(extra));
    CHECK(extra.empty());
}

// Waits until every thread of `pid` blocks in the system call it will stay in (nanosleep or
// pause), so that RSS, VSZ, wchan and state no longer change between runs.
void wait_quiescent(pid_t pid)
{
    std::set<long> blocking{
#ifdef SYS_pause
        SYS_pause,
#endif
#ifdef SYS_nanosleep
        SYS_nanosleep,
#endif
        SYS_clock_nanosleep, SYS_rt_sigsuspend};
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    bool settled = wait_until([&] {
        auto tids = list_dir(dir);
        if (!tids)
            return false;
        for (auto& t : *tids) {
            if (t == "." || t == "..")
                continue;
            auto sc = read_file(dir + "/" + t + "/syscall");
            if (!sc || sc->empty() || !std::isdigit(static_cast<unsigned char>((*sc)[0])) ||
                !blocking.count(std::stol(*sc)))
                return false;
        }
        return true;
    }, 10s);
    REQUIRE(settled);
}

// A ps-like table: rows keyed by the pid in column `pid_col`, with the columns listed in
// `masked` blanked (CPU percentages, which move with every tick).
struct Table {
    std::string header;
    std::map<pid_t, std::vector<std::string>> rows;
    std::set<pid_t> pids() const
    {
        std::set<pid_t> s;
        for (auto& [p, r] : rows)
            s.insert(p);
        return s;
    }
};

Table parse_table(const std::string& text, size_t pid_col, const std::set<size_t>& masked = {})
{
    Table t;
    auto lines = lines_of(text);
    if (lines.empty())
        return t;
    t.header = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
        auto cols = tokens(lines[i]);
        if (cols.size() <= pid_col)
            continue;
        for (size_t c : masked)
            if (c < cols.size())
                cols[c] = "*";
        t.rows[static_cast<pid_t>(std::stol(cols[pid_col]))] = cols;
    }
    return t;
}

std::string join(const std::vector<std::string>& v)
{
    std::string s;
    for (auto& x : v)
        s += (s.empty() ? "" : " ") + x;
    return s;
}

// A file in /tmp, removed by the destructor.
struct TempFile {
    std::string path;
    TempFile()
    {
        char tmpl[] = "/tmp/procfsd-tools-XXXXXX";
        int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        path = tmpl;
        REQUIRE(::write(fd, "procfsd\n", 8) == 8);
        ::close(fd);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() { ::unlink(path.c_str()); }
};

// A sleeper holding `path` open (read-only) on some descriptor: the fd is opened without
// O_CLOEXEC just for the fork and exec of spawn_sleeper(), then closed here.
Child spawn_sleeper_holding(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    Child c = spawn_sleeper();
    ::close(fd);
    return c;
}

// lsof -F's records, one per file: its fields by their letter (f FD, t TYPE, n NAME, ...).
using LsofRecord = std::map<char, std::string>;
std::vector<LsofRecord> lsof_files(const std::string& out)
{
    std::vector<LsofRecord> files;
    for (auto& l : lines_of(out)) {
        if (l.empty() || l[0] == 'p')
            continue;
        if (l[0] == 'f')
            files.emplace_back();
        if (!files.empty())
            files.back()[l[0]] = l.substr(1);
    }
    return files;
}

const std::string sleeper_pattern = "^/bin/sleep 3600$"; // the harness's sleeper_argv, exactly

std::string me() { return std::to_string(::getpid()); }

} // namespace

TEST_CASE("ps aux, ps -ef and ps -eo show our processes as on /proc", "[tools][ps]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(2, tids);
    const std::vector<pid_t> ours{sleeper.pid(), nobody.pid(), threaded.pid()};
    for (pid_t p : ours)
        wait_quiescent(p);

    struct Format {
        std::vector<std::string> argv;
        size_t pid_col;
        std::set<size_t> masked; // %CPU (aux) and C (-ef) move with every tick
        size_t user_col;         // where the nobody sleeper shows "nobody" (or 65534)
    };
    const std::vector<Format> formats{
        {{"ps", "aux"}, 1, {2}, 0},
        {{"ps", "-ef"}, 1, {3}, 0},
        {{"ps", "-eo", "pid,user,rss,vsz,nlwp,wchan:20,args"}, 0, {}, 1},
        {{"ps", "-eo", "pid,ppid,pgid,sid,uid,gid,ni,pri,stat,tty,lstart,comm"}, 0, {}, 4},
    };
    for (auto& f : formats) {
        INFO(join(f.argv));
        auto n1 = native(f.argv);
        auto mm = mirrored(m, f.argv);
        auto n2 = native(f.argv);
        REQUIRE(n1.status == 0);
        REQUIRE(mm.status == 0);
        auto t1 = parse_table(n1.out, f.pid_col, f.masked);
        auto tm = parse_table(mm.out, f.pid_col, f.masked);
        auto t2 = parse_table(n2.out, f.pid_col, f.masked);
        CHECK(tm.header == t1.header);
        check_sandwich(t1.pids(), tm.pids(), t2.pids());
        for (pid_t p : ours) {
            INFO("pid " << p);
            REQUIRE(t1.rows.count(p));
            REQUIRE(tm.rows.count(p));
            INFO("native:   " << join(t1.rows[p]) << "\nmirrored: " << join(tm.rows[p]));
            CHECK((tm.rows[p] == t1.rows[p] || tm.rows[p] == t2.rows[p]));
        }
        auto& user = tm.rows[nobody.pid()].at(f.user_col);
        CHECK((user == "nobody" || user == "65534"));
    }

    // Run by another user, ps gets what the kernel gives that user: wchan only of processes it
    // may ptrace (its own), "-" for root's.
    const auto argv = as_nobody({"ps", "-eo", "pid,user,wchan:20,stat,args"});
    auto n1 = native(argv);
    auto mm = mirrored(m, argv);
    auto n2 = native(argv);
    REQUIRE(n1.status == 0);
    REQUIRE(mm.status == 0);
    auto t1 = parse_table(n1.out, 0), tm = parse_table(mm.out, 0), t2 = parse_table(n2.out, 0);
    check_sandwich(t1.pids(), tm.pids(), t2.pids());
    for (pid_t p : ours) {
        INFO("as nobody, pid " << p);
        REQUIRE(t1.rows.count(p));
        REQUIRE(tm.rows.count(p));
        INFO("native:   " << join(t1.rows[p]) << "\nmirrored: " << join(tm.rows[p]));
        CHECK((tm.rows[p] == t1.rows[p] || tm.rows[p] == t2.rows[p]));
    }
    CHECK(t1.rows[sleeper.pid()].at(2) == "-");
    CHECK(t1.rows[nobody.pid()].at(2) != "-");
}

TEST_CASE("top -b -n1 lists the same processes, users and commands", "[tools][top]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(3, tids);
    for (pid_t p : {sleeper.pid(), nobody.pid(), threaded.pid()})
        wait_quiescent(p);

    // The task table follows the summary and a blank line; columns:
    // PID USER PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND.
    auto table = [](const std::string& out) {
        auto lines = lines_of(out);
        auto start = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
            auto t = tokens(l);
            return t.size() > 1 && t[0] == "PID";
        });
        std::string text;
        for (auto it = start; it != lines.end(); ++it)
            text += *it + "\n";
        return parse_table(text, 0, {8, 9, 10}); // %CPU, %MEM, TIME+
    };
    auto mem_total = [](const std::string& out) {
        std::smatch mt;
        std::regex re("Mem :\\s*([0-9.]+) total");
        return std::regex_search(out, mt, re) ? mt[1].str() : std::string("?");
    };
    const std::vector<std::string> argv{"top", "-b", "-n1", "-w", "512"};
    auto n1 = native(argv);
    auto mm = mirrored(m, argv);
    auto n2 = native(argv);
    REQUIRE(n1.status == 0);
    REQUIRE(mm.status == 0);
    auto t1 = table(n1.out), tm = table(mm.out), t2 = table(n2.out);
    CHECK(tm.header == t1.header);
    check_sandwich(t1.pids(), tm.pids(), t2.pids());
    for (pid_t p : {sleeper.pid(), nobody.pid(), threaded.pid()}) {
        INFO("pid " << p);
        REQUIRE(tm.rows.count(p));
        REQUIRE(t1.rows.count(p));
        INFO("native:   " << join(t1.rows[p]) << "\nmirrored: " << join(tm.rows[p]));
        // USER and COMMAND, and with them PR, NI, VIRT, RES, SHR and the state: a quiescent
        // process does not change those.
        CHECK((tm.rows[p] == t1.rows[p] || tm.rows[p] == t2.rows[p]));
    }
    CHECK(tm.rows[nobody.pid()].at(1) == "nobody");
    CHECK(tm.rows[sleeper.pid()].back() == "sleep");
    CHECK(mem_total(mm.out) == mem_total(n1.out));

    // -H: one row per thread of the threaded process.
    const std::vector<std::string> threads{"top", "-b", "-n1", "-H", "-w", "512", "-p",
                                           std::to_string(threaded.pid())};
    auto h1 = native(threads);
    auto hm = mirrored(m, threads);
    REQUIRE(hm.status == 0);
    std::set<pid_t> want(tids.begin(), tids.end());
    want.insert(threaded.pid());
    CHECK(table(h1.out).pids() == want);
    CHECK(table(hm.out).pids() == want);
}

TEST_CASE("pgrep -f finds the same processes", "[tools][pgrep]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    // Anchored: the shells that run pgrep carry the pattern in their own command lines.
    const std::vector<std::string> all{"pgrep", "-f", sleeper_pattern};
    auto n1 = native(all);
    auto mm = mirrored(m, all);
    auto n2 = native(all);
    REQUIRE(mm.status == 0);
    check_sandwich(pid_set(n1.out), pid_set(mm.out), pid_set(n2.out));
    CHECK(pid_set(mm.out).count(sleeper.pid()));
    CHECK(pid_set(mm.out).count(nobody.pid()));

    // Only ours: children of this test, and by user.
    const std::vector<std::string> mine{"pgrep", "-P", me(), "-f", sleeper_pattern};
    auto nm = native(mine);
    auto mmine = mirrored(m, mine);
    CHECK(pid_set(nm.out) == std::set<pid_t>{sleeper.pid(), nobody.pid()});
    CHECK(pid_set(mmine.out) == pid_set(nm.out));
    const std::vector<std::string> by_user{"pgrep", "-u", "nobody", "-P", me(), "-f", sleeper_pattern};
    CHECK(pid_set(mirrored(m, by_user).out) == std::set<pid_t>{nobody.pid()});
    CHECK(pid_set(native(by_user).out) == std::set<pid_t>{nobody.pid()});

    // No match: exit status 1 and nothing listed, both ways.
    const std::vector<std::string> none{"pgrep", "-f", "^procfsd-tools-no-such-process$"};
    auto nn = native(none);
    auto mn = mirrored(m, none);
    CHECK(nn.status == 1);
    CHECK(mn.status == nn.status);
    CHECK(mn.out.empty());
}

TEST_CASE("pkill -0 -f has the same exit status", "[tools][pkill]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    // Signal 0 delivers nothing; -P keeps it to our own children anyway.
    const std::vector<std::string> ours{"pkill", "-0", "-e", "-P", me(), "-f", sleeper_pattern};
    auto n = native(ours);
    auto mm = mirrored(m, ours);
    CHECK(n.status == 0);
    CHECK(mm.status == n.status);
    // -e names each process signalled ("sleep killed (pid N)"); the order is /proc's.
    auto sorted = [](const std::string& s) {
        auto l = lines_of(s);
        std::sort(l.begin(), l.end());
        return l;
    };
    CHECK(sorted(mm.out) == sorted(n.out));
    CHECK(sorted(mm.out).size() == 2);
    for (pid_t p : {sleeper.pid(), nobody.pid()})
        CHECK(mm.out.find("(pid " + std::to_string(p) + ")") != std::string::npos);

    const std::vector<std::string> none{"pkill", "-0", "-f", "^procfsd-tools-no-such-process$"};
    auto nn = native(none);
    auto mn = mirrored(m, none);
    CHECK(nn.status == 1);
    CHECK(mn.status == nn.status);
}

TEST_CASE("pidof sleep finds the same processes", "[tools][pidof]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    const std::vector<std::string> argv{"pidof", "sleep"};
    auto n1 = native(argv);
    auto mm = mirrored(m, argv);
    auto n2 = native(argv);
    REQUIRE(n1.status == 0);
    REQUIRE(mm.status == 0);
    check_sandwich(pid_set(n1.out), pid_set(mm.out), pid_set(n2.out));
    CHECK(pid_set(mm.out).count(sleeper.pid()));
    CHECK(pid_set(mm.out).count(nobody.pid()));

    const std::vector<std::string> none{"pidof", "procfsd-tools-no-such-program"};
    auto nn = native(none);
    auto mn = mirrored(m, none);
    CHECK(nn.status == 1);
    CHECK(mn.status == nn.status);
}

TEST_CASE("free reports the same totals", "[tools][free]")
{
    TestMount m;
    auto n = native({"free", "-b"});
    auto mm = mirrored(m, {"free", "-b"});
    REQUIRE(n.status == 0);
    REQUIRE(mm.status == 0);
    auto nl = lines_of(n.out), ml = lines_of(mm.out);
    REQUIRE(nl.size() == ml.size());
    CHECK(ml[0] == nl[0]); // the header
    for (size_t i = 1; i < nl.size(); ++i) {
        auto nt = tokens(nl[i]), mt = tokens(ml[i]);
        INFO(nl[i] << "\n" << ml[i]);
        REQUIRE(nt.size() == mt.size());
        REQUIRE(nt.size() >= 2);
        CHECK(mt[0] == nt[0]); // Mem:, Swap:
        CHECK(mt[1] == nt[1]); // total, in bytes
    }
}

TEST_CASE("uptime reports the same users and load", "[tools][uptime]")
{
    TestMount m;
    struct Parsed {
        std::string up;
        int users = -1;
        std::vector<double> load;
    };
    auto parse = [](const std::string& out) {
        Parsed p;
        std::smatch mt;
        if (std::regex_search(out, mt, std::regex("up (.*),\\s+(\\d+) users?,")))
            p.up = mt[1].str(), p.users = std::stoi(mt[2].str());
        if (std::regex_search(out, mt, std::regex("load average: ([0-9.]+), ([0-9.]+), ([0-9.]+)")))
            for (int i = 1; i <= 3; ++i)
                p.load.push_back(std::stod(mt[i].str()));
        return p;
    };
    auto n1 = native({"uptime"});
    auto mm = mirrored(m, {"uptime"});
    auto n2 = native({"uptime"});
    REQUIRE(n1.status == 0);
    REQUIRE(mm.status == 0);
    auto a = parse(n1.out), b = parse(mm.out), c = parse(n2.out);
    INFO(n1.out << mm.out << n2.out);
    REQUIRE(a.users >= 0);
    CHECK(b.users == a.users);
    CHECK((b.up == a.up || b.up == c.up));
    // The kernel updates the load averages every 5 s: the mirrored values lie between the two
    // native readings.
    REQUIRE(a.load.size() == 3);
    REQUIRE(b.load.size() == 3);
    REQUIRE(c.load.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CHECK(b.load[i] >= std::min(a.load[i], c.load[i]) - 0.005);
        CHECK(b.load[i] <= std::max(a.load[i], c.load[i]) + 0.005);
    }
}

TEST_CASE("w runs and reports the same users", "[tools][w]")
{
    TestMount m;
    auto n = native({"w"});
    auto mm = mirrored(m, {"w"});
    REQUIRE(n.status == 0);
    REQUIRE(mm.status == 0);
    auto nl = lines_of(n.out), ml = lines_of(mm.out);
    REQUIRE(nl.size() >= 2);
    REQUIRE(ml.size() >= 2);
    std::regex users_re("(\\d+) users?,");
    std::smatch a, b;
    REQUIRE(std::regex_search(nl[0], a, users_re));
    REQUIRE(std::regex_search(ml[0], b, users_re));
    CHECK(b[1].str() == a[1].str());
    CHECK(ml[1] == nl[1]); // USER TTY FROM LOGIN@ IDLE JCPU PCPU WHAT
    // One row per session: USER, TTY and FROM (the rest reads the session's processes' times).
    auto sessions = [](const std::vector<std::string>& lines) {
        std::multiset<std::string> s;
        for (size_t i = 2; i < lines.size(); ++i) {
            auto t = tokens(lines[i]);
            t.resize(std::min<size_t>(t.size(), 3));
            s.insert(join(t));
        }
        return s;
    };
    CHECK(sessions(ml) == sessions(nl));
}

TEST_CASE("vmstat runs with the same columns and totals", "[tools][vmstat]")
{
    TestMount m;
    auto n = native({"vmstat"});
    auto mm = mirrored(m, {"vmstat"});
    REQUIRE(n.status == 0);
    REQUIRE(mm.status == 0);
    auto nl = lines_of(n.out), ml = lines_of(mm.out);
    REQUIRE(nl.size() == 3);
    REQUIRE(ml.size() == 3);
    CHECK(ml[0] == nl[0]);
    CHECK(ml[1] == nl[1]);
    CHECK(tokens(ml[2]).size() == tokens(nl[2]).size());
    CHECK(tokens(ml[2]).size() == tokens(ml[1]).size());

    // vmstat -s: memory and swap totals are fixed; the event counters only grow.
    auto ns = native({"vmstat", "-s"});
    auto ms = mirrored(m, {"vmstat", "-s"});
    REQUIRE(ms.status == 0);
    auto value_of = [](const std::string& out, const std::string& what) {
        for (auto& l : lines_of(out))
            if (l.find(what) != std::string::npos)
                return tokens(l).at(0);
        return std::string("?");
    };
    CHECK(value_of(ms.out, "K total memory") == value_of(ns.out, "K total memory"));
    CHECK(value_of(ms.out, "K total swap") == value_of(ns.out, "K total swap"));
    CHECK(value_of(ms.out, "K total memory") != "?");
    CHECK(std::stoull(value_of(ms.out, "forks")) >= std::stoull(value_of(ns.out, "forks")));
    CHECK(lines_of(ms.out).size() == lines_of(ns.out).size());
}

TEST_CASE("pmap shows the same mappings", "[tools][pmap]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    for (pid_t p : {sleeper.pid(), nobody.pid()}) {
        wait_quiescent(p);
        // -x adds RSS and Dirty, which a sleeping process does not change. (-X would add Pss,
        // which moves whenever another process maps the same library.)
        for (const char* opt : {"", "-x"}) {
            std::vector<std::string> argv{"pmap"};
            if (*opt)
                argv.push_back(opt);
            argv.push_back(std::to_string(p));
            INFO(join(argv));
            auto n = native(argv);
            auto mm = mirrored(m, argv);
            REQUIRE(n.status == 0);
            CHECK(mm.status == 0);
            CHECK(mm.out == n.out);
            CHECK(lines_of(mm.out).size() > 5);
        }
    }
    // Run by nobody: its own process in full; root's only by its command line (maps refuses),
    // with status 1.
    for (pid_t p : {sleeper.pid(), nobody.pid()}) {
        auto argv = as_nobody({"pmap", std::to_string(p)});
        INFO(join(argv));
        auto n = native(argv, Stderr::merge);
        auto mm = mirrored(m, argv, Stderr::merge);
        CHECK(mm.status == n.status);
        CHECK(mm.out == n.out);
        CHECK(n.status == (p == sleeper.pid() ? 1 : 0));
    }
}

TEST_CASE("pwdx shows the same working directories", "[tools][pwdx]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(1, tids);
    // pwdx prints the text of the cwd link, which procfsd gives as the kernel's text.
    std::vector<std::string> argv{"pwdx", std::to_string(sleeper.pid()), std::to_string(nobody.pid()),
                                  std::to_string(threaded.pid())};
    auto n = native(argv, Stderr::merge);
    auto mm = mirrored(m, argv, Stderr::merge);
    REQUIRE(n.status == 0);
    CHECK(mm.status == 0);
    CHECK(mm.out == n.out);
    CHECK(lines_of(mm.out).size() == 3);

    // Run by nobody: "Permission denied" for root's processes (status 1), its own one's cwd.
    auto an = native(as_nobody(argv), Stderr::merge);
    auto am = mirrored(m, as_nobody(argv), Stderr::merge);
    CHECK(an.status == 1);
    CHECK(am.status == an.status);
    CHECK(am.out == an.out);
    CHECK(an.out.find("Permission denied") != std::string::npos);

    // A pid that is not there: the same error and status. (The sleeper's pid once it is gone.)
    pid_t gone = sleeper.pid();
    sleeper.kill_and_reap();
    std::vector<std::string> none{"pwdx", std::to_string(gone)};
    auto ng = native(none, Stderr::merge);
    auto mg = mirrored(m, none, Stderr::merge);
    CHECK(ng.status != 0);
    CHECK(mg.status == ng.status);
    CHECK(mg.out == ng.out);
}

TEST_CASE("pstree -p shows the same thread subtree", "[tools][pstree]")
{
    TestMount m;
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(4, tids);
    wait_quiescent(threaded.pid());
    for (auto opts : {std::vector<std::string>{"-p"}, std::vector<std::string>{"-pa"},
                      std::vector<std::string>{"-ptu"}}) {
        std::vector<std::string> argv{"pstree"};
        argv.insert(argv.end(), opts.begin(), opts.end());
        argv.push_back(std::to_string(threaded.pid()));
        INFO(join(argv));
        auto n = native(argv);
        auto mm = mirrored(m, argv);
        REQUIRE(n.status == 0);
        CHECK(mm.status == 0);
        CHECK(mm.out == n.out);
        // Threads show as {comm}(tid), or {comm},tid with -a.
        for (pid_t t : tids)
            CHECK((mm.out.find("(" + std::to_string(t) + ")") != std::string::npos ||
                   mm.out.find("," + std::to_string(t)) != std::string::npos));
    }
    // A process owned by another user: -u names the user where it changes from the parent's.
    auto nobody = spawn_as_nobody();
    wait_quiescent(nobody.pid());
    std::vector<std::string> argv{"pstree", "-pu", std::to_string(nobody.pid())};
    auto n = native(argv);
    auto mm = mirrored(m, argv);
    CHECK(mm.out == n.out);
}

TEST_CASE("fuser finds the process holding a file", "[tools][fuser]")
{
    TestMount m;
    TempFile file;
    auto holder = spawn_sleeper_holding(file.path);
    // fuser stat()s every /proc/<pid>/fd/N: through procfsd that follows the link's text, which
    // for a named file is its path, so the same file is found. Processes of other users' namespaces
    // can give "Cannot stat" noise on stderr, the same both ways.
    auto n = native({"fuser", file.path});
    auto mm = mirrored(m, {"fuser", file.path});
    CHECK(n.status == 0);
    CHECK(mm.status == n.status);
    CHECK(pid_set(n.out) == std::set<pid_t>{holder.pid()});
    CHECK(pid_set(mm.out) == pid_set(n.out));

    // -v: the table (on stderr) names the user, access ("f": open file) and command.
    auto table = [](const std::string& out) {
        std::vector<std::string> rows;
        for (auto& l : lines_of(out))
            if (l.rfind("Cannot stat", 0) != 0)
                rows.push_back(join(tokens(l)));
        return rows;
    };
    auto nv = native({"fuser", "-v", file.path}, Stderr::merge);
    auto mv = mirrored(m, {"fuser", "-v", file.path}, Stderr::merge);
    CHECK(table(mv.out) == table(nv.out));
    CHECK(std::find(table(mv.out).begin(), table(mv.out).end(),
                    "root " + std::to_string(holder.pid()) + " f.... sleep") != table(mv.out).end());

    // Once it is closed (the holder gone), nobody uses the file: status 1 both ways.
    holder.kill_and_reap();
    auto n0 = native({"fuser", file.path});
    auto m0 = mirrored(m, {"fuser", file.path});
    CHECK(n0.status == 1);
    CHECK(m0.status == n0.status);
}

TEST_CASE("killall -0 finds the same processes", "[tools][killall]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    // -v reports every process killall signalled or failed to: "Killed sleep(PID) with signal
    // 0" or "sleep(PID): <error>". Signal 0 delivers nothing.
    auto matched = [](const std::string& out) {
        std::set<pid_t> pids;
        std::regex re("sleep\\(([0-9]+)\\)");
        for (auto& l : lines_of(out)) {
            std::smatch mt;
            if (std::regex_search(l, mt, re))
                pids.insert(static_cast<pid_t>(std::stol(mt[1].str())));
        }
        return pids;
    };
    const std::vector<std::string> argv{"killall", "-0", "-v", "sleep"};
    auto n1 = native(argv, Stderr::merge);
    auto mm = mirrored(m, argv, Stderr::merge);
    auto n2 = native(argv, Stderr::merge);
    INFO("native:\n" << n1.out << "mirrored:\n" << mm.out);
    CHECK(n1.status == 0);
    check_sandwich(matched(n1.out), matched(mm.out), matched(n2.out));
    CHECK(matched(mm.out).count(sleeper.pid()));
    CHECK(matched(mm.out).count(nobody.pid()));
    // The exit status differs, and not because of procfsd's answers: psmisc's killall (23.x)
    // signals through an fd of /proc/<pid>, with pidfd_send_signal(). The kernel takes an fd of
    // a procfs pid directory as a pidfd, but an fd of the FUSE directory is none, so each
    // signal fails with EBADF and killall exits 1. No FUSE file system can change that: check
    // that this is the only failure (every match reported EBADF, and nothing else went wrong).
    if (mm.status != n1.status) {
        WARN("killall signals through /proc/<pid> fds, which are no pidfds on a FUSE mount");
        CHECK(mm.status == 1);
        for (pid_t p : matched(mm.out))
            CHECK(mm.out.find("sleep(" + std::to_string(p) + "): Bad file descriptor") != std::string::npos);
    }

    // No process of that name: status 1 and "no process found", both ways.
    const std::vector<std::string> none{"killall", "-0", "procfsd-no-such"};
    auto nn = native(none, Stderr::merge);
    auto mn = mirrored(m, none, Stderr::merge);
    CHECK(nn.status == 1);
    CHECK(mn.status == nn.status);
    CHECK(mn.out == nn.out);
}

TEST_CASE("lsof -p shows the same descriptors and mappings", "[tools][lsof]")
{
    TestMount m;
    TempFile file;
    auto sleeper = spawn_sleeper_holding(file.path);
    wait_quiescent(sleeper.pid());
    // Field output, one record per file: f (FD, with cwd, rtd, txt, mem), a (access, from
    // fdinfo's flags), t (TYPE), o (offset, from fdinfo's pos), n (NAME, the link's text or the
    // maps path). lsof stat()s each fd/N; through procfsd that follows the link's text, so pipes,
    // anon inodes and deleted files do not resolve and their TYPE is "unknown" (README: magic
    // links are text; sockets do, in the "[links]" case). For those only FD, access, offset and NAME are
    // compared; so are they for descriptors the test inherited from its runner (whose paths
    // another user may not reach) when lsof runs as nobody.
    auto parse = lsof_files;
    auto compare = [&](pid_t pid, bool nobody) {
        std::vector<std::string> argv{"lsof", "-w", "-p", std::to_string(pid), "-F", "fatno"};
        if (nobody)
            argv = as_nobody(argv);
        INFO(join(argv));
        auto n = native(argv);
        auto mm = mirrored(m, argv);
        REQUIRE(n.status == 0);
        REQUIRE(mm.status == 0);
        auto nf = parse(n.out), mf = parse(mm.out);
        REQUIRE(nf.size() == mf.size());
        bool held = false, txt = false, mem = false;
        for (size_t i = 0; i < nf.size(); ++i) {
            auto& a = nf[i];
            auto& b = mf[i];
            INFO("native:   " << a['f'] << " " << a['t'] << " " << a['n'] << "\nmirrored: " << b['f']
                              << " " << b['t'] << " " << b['n']);
            CHECK(b['f'] == a['f']);
            CHECK(b['a'] == a['a']);
            CHECK(b['o'] == a['o']);
            CHECK(b['n'] == a['n']);
            static const std::set<std::string> named_types{"REG", "DIR", "CHR", "BLK"};
            static const std::set<std::string> process_files{"cwd", "rtd", "txt", "mem"};
            bool has_path = named_types.count(a['t']) && a['n'].find(" (deleted)") == std::string::npos;
            if (has_path && (!nobody || process_files.count(a['f']) || a['n'] == file.path))
                CHECK(b['t'] == a['t']);
            held |= b['n'] == file.path && b['t'] == "REG";
            txt |= b['f'] == "txt" && b['n'].find("sleep") != std::string::npos;
            mem |= b['f'] == "mem" && b['t'] == "REG";
        }
        CHECK(held);
        CHECK(txt);
        CHECK(mem);
    };
    compare(sleeper.pid(), false);

    // Run by nobody on a process of nobody's holding the same file (readable by all).
    REQUIRE(::chmod(file.path.c_str(), 0644) == 0);
    Child nobody;
    {
        int fd = ::open(file.path.c_str(), O_RDONLY);
        REQUIRE(fd >= 0);
        nobody = spawn_as_nobody();
        ::close(fd);
    }
    wait_quiescent(nobody.pid());
    compare(nobody.pid(), true);

    // lsof FILE scans every process's descriptors for it.
    auto nt = native({"lsof", "-w", "-t", file.path});
    auto mt = mirrored(m, {"lsof", "-w", "-t", file.path});
    CHECK(pid_set(nt.out) == std::set<pid_t>{sleeper.pid(), nobody.pid()});
    CHECK(pid_set(mt.out) == pid_set(nt.out));
}

// A socket's fd/N reads socket:[INODE], a relative text: following it, the kernel looks that
// name up in fd/, which procfsd answers with the socket's own attributes (lib/fuse/link_target.cpp),
// so lsof finds its type, its inode (to match /proc/net/*) and its protocol (an xattr of the
// socket). ns/* links likewise give their namespace's inode, which ps's columns print.
TEST_CASE("lsof -p sees sockets and ps sees namespaces through their links, as on /proc",
          "[tools][lsof][ps][links]")
{
    TestMount m;
    // Sockets of every kind lsof names, inherited by a sleeper (no CLOEXEC), then closed here.
    int tcp = ::socket(AF_INET, SOCK_STREAM, 0), udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    int tcp6 = ::socket(AF_INET6, SOCK_STREAM, 0);
    int pair[2] = {-1, -1};
    REQUIRE(tcp >= 0);
    REQUIRE(udp >= 0);
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    struct sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(tcp, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    REQUIRE(::listen(tcp, 1) == 0);
    REQUIRE(::bind(udp, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    Child sleeper = spawn_sleeper();
    for (int fd : {tcp, udp, tcp6, pair[0], pair[1]})
        if (fd >= 0)
            ::close(fd);
    wait_quiescent(sleeper.pid());
    std::string pid = std::to_string(sleeper.pid());

    auto parse = lsof_files;
    std::vector<std::string> argv{"lsof", "-w", "-p", pid, "-F", "ftn"};
    auto n = native(argv), mm = mirrored(m, argv);
    REQUIRE(n.status == 0);
    REQUIRE(mm.status == 0);
    auto nf = parse(n.out), mf = parse(mm.out);
    REQUIRE(nf.size() == mf.size());
    static const std::set<std::string> socket_types{"IPv4", "IPv6", "unix", "sock"};
    size_t sockets = 0;
    for (size_t i = 0; i < nf.size(); ++i) {
        INFO("native:   " << nf[i]['f'] << " " << nf[i]['t'] << " " << nf[i]['n'] << "\nmirrored: "
                          << mf[i]['f'] << " " << mf[i]['t'] << " " << mf[i]['n']);
        CHECK(mf[i]['f'] == nf[i]['f']);
        CHECK(mf[i]['n'] == nf[i]['n']);
        if (socket_types.count(nf[i]['t'])) {
            ++sockets;
            CHECK(mf[i]['t'] == nf[i]['t']);
        }
    }
    CHECK(sockets >= (tcp6 >= 0 ? 5u : 4u));

    // ps's namespace columns (the inode of each ns/* link) for the sleeper and for ps itself.
    std::vector<std::string> ps{"ps", "-o", "pid,netns,pidns,mntns,ipcns,utsns,userns,cgroupns", "-p", pid};
    auto np = native(ps), mp = mirrored(m, ps);
    CHECK(mp.out == np.out);
    CHECK(mp.out.find(" - ") == std::string::npos);
    auto own = mirrored(m, {"sh", "-c", "exec ps -o netns=,mntns=,userns= -p $$"});
    CHECK(own.out.find('-') == std::string::npos);

    // stat() through a link gives the object's type and inode; opening a socket's link fails
    // with ENXIO as on /proc; a namespace's opens fail (ENXIO, EPERM for writing).
    for (const char* ns : {"net", "mnt", "pid", "user", "cgroup"}) {
        struct stat a{}, b{};
        INFO(ns);
        REQUIRE(::stat(("/proc/" + pid + "/ns/" + ns).c_str(), &a) == 0);
        REQUIRE(::stat(m.path(pid + "/ns/" + ns).c_str(), &b) == 0);
        CHECK(b.st_ino == a.st_ino);
        CHECK((b.st_mode & S_IFMT) == (a.st_mode & S_IFMT));
    }
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + pid + "/fd")) {
        std::string fd = e.path().filename().string();
        struct stat a{}, b{};
        if (::stat(e.path().c_str(), &a) != 0 || !S_ISSOCK(a.st_mode))
            continue;
        INFO("fd " << fd);
        REQUIRE(::stat(m.path(pid + "/fd/" + fd).c_str(), &b) == 0);
        CHECK(S_ISSOCK(b.st_mode));
        CHECK(b.st_ino == a.st_ino);
        errno = 0;
        CHECK(::open(m.path(pid + "/fd/" + fd).c_str(), O_RDONLY) == -1);
        CHECK(errno == ENXIO);
        errno = 0;
        CHECK(::open(e.path().c_str(), O_RDONLY) == -1);
        CHECK(errno == ENXIO);
    }
    errno = 0;
    CHECK(::open(m.path(pid + "/ns/net").c_str(), O_RDONLY) == -1);
    CHECK(errno == ENXIO);
    for (const std::string& path : {"/proc/" + pid + "/ns/net", m.path(pid + "/ns/net")}) {
        INFO(path);
        errno = 0;
        CHECK(::open(path.c_str(), O_WRONLY) == -1);
        CHECK(errno == EPERM);
    }
    // A text no link of the directory shows is not there.
    struct stat st{};
    CHECK(::stat(m.path(pid + "/fd/socket:[1]").c_str(), &st) == -1);
    CHECK(::stat(m.path(pid + "/ns/net:[1]").c_str(), &st) == -1);
}

// The daemon's worker threads belong to the daemon's thread group, and the kernel's
// __ptrace_may_access() lets a task inspect its own thread group whatever its credentials
// (same_thread_group()); switched caller credentials alone would give any user the daemon's
// maps, smaps, wchan, stat's address fields and cwd/exe/root links, and show it on
// hidepid=invisible mounts. lib/policy.cpp applies the kernel's rule for that process.
TEST_CASE("tools run by another user see procfsd's own process as the kernel shows it",
          "[tools][pwdx][pmap][ps]")
{
    TestMount m("", {"hidepid=invisible"});
    const std::string daemon = std::to_string(m.daemon_pid());

    auto n = native(as_nobody({"pwdx", daemon}), Stderr::merge);
    auto mm = mirrored(m, as_nobody({"pwdx", daemon}), Stderr::merge);
    CHECK(n.out == daemon + ": Permission denied\n");
    CHECK(mm.out == n.out);
    CHECK(mm.status == n.status);

    n = native(as_nobody({"pmap", daemon}), Stderr::merge);
    mm = mirrored(m, as_nobody({"pmap", daemon}), Stderr::merge);
    CHECK(lines_of(n.out).size() == 1); // the command line only: maps refuses
    CHECK(mm.out == n.out);
    CHECK(mm.status == n.status);

    // stat's startstack is zeroed for a reader who may not ptrace the process.
    const auto ps = as_nobody({"ps", "-o", "pid,user,stackp", "-p", daemon});
    n = native(ps);
    mm = mirrored(m, ps);
    CHECK(mm.out == n.out);

    // hidepid=invisible: a kernel procfs mounted with it hides root's processes from nobody.
    const auto all = as_nobody({"ps", "-e", "-o", "pid="});
    auto kernel = run_in_ns("mount -t proc -o hidepid=invisible proc /proc", all, Stderr::discard);
    auto ours = mirrored_at(m.mount_path(1), all);
    REQUIRE(kernel.status == 0);
    REQUIRE(ours.status == 0);
    CHECK(!pid_set(kernel.out).count(m.daemon_pid()));
    CHECK(!pid_set(ours.out).count(m.daemon_pid()));
}
