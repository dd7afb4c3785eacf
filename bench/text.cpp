// SPDX-License-Identifier: GPL-2.0-or-later
#include "text.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace procfsd::bench {

std::string strprintf(const char* fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return {};
    if (static_cast<size_t>(n) < sizeof buf)
        return std::string(buf, static_cast<size_t>(n));
    std::string out(static_cast<size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(out.data(), out.size(), fmt, ap);
    va_end(ap);
    out.resize(static_cast<size_t>(n));
    return out;
}

void note(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("-- ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
}

std::string fmt_num(double v, int prec)
{
    if (!std::isfinite(v))
        return "-";
    return strprintf("%.*f", prec, v);
}

std::string fmt_ratio(double v)
{
    if (!std::isfinite(v))
        return "-";
    return strprintf("%.2fx", v);
}

} // namespace procfsd::bench
