/* plot_ticks.c: "nice" axis ticks. Linear: steps of 1, 2 or 5 x 10^k, the
 * limits rounded out to a whole step. Log: one tick per decade, the limits
 * rounded out to decades. */
#include <math.h>
#include <stdio.h>

#include "plot_internal.h"

static double nice_step(double span, int target) {
    double raw = span / (target > 1 ? target : 1), mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

int plot_ticks_linear(double *lo, double *hi, int target, double *ticks, double *step) {
    if (!(*hi > *lo)) { /* one value: a unit (or 10%) around it */
        double pad = *lo != 0 ? fabs(*lo) * 0.1 : 1;
        *lo -= pad;
        *hi += pad;
    }
    double s = nice_step(*hi - *lo, target);
    double a = floor(*lo / s + 1e-9) * s, b = ceil(*hi / s - 1e-9) * s;
    int n = 0;
    for (int i = 0; n < PLOT_MAX_TICKS; ++i) {
        double v = a + i * s;
        if (v > b + s * 1e-6) break;
        ticks[n++] = fabs(v) < s * 1e-9 ? 0.0 : v; /* no "-0" */
    }
    *lo = a;
    *hi = b;
    *step = s;
    return n;
}

int plot_ticks_log(double *lo, double *hi, double *ticks) {
    int a = (int)floor(log10(*lo) + 1e-9), b = (int)ceil(log10(*hi) - 1e-9);
    if (b <= a) b = a + 1;
    int every = (b - a + 9) / 10; /* at most ~10 labelled decades */
    int n = 0;
    for (int e = a; e <= b && n < PLOT_MAX_TICKS; e += every) ticks[n++] = pow(10, e);
    *lo = pow(10, a);
    *hi = pow(10, b);
    return n;
}

void plot_tick_label(double v, double step, int log, char *buf, size_t size) {
    if (log) {
        int e = (int)lround(log10(v));
        if (e >= 0 && e <= 3)
            snprintf(buf, size, "%g", pow(10, e));
        else
            snprintf(buf, size, "1e%d", e);
        return;
    }
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-4)) {
        snprintf(buf, size, "%.3g", v);
        return;
    }
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, v);
}
