/* test_scaler.c: lpi_scale (engine/src/data/image.c), the swscale step of
 * every image and video read. Its context is made once and reused while the
 * frame and the output stay the same: swscale's own sws_getCachedContext never
 * matched for planar RGB output (swscale adds SWS_FULL_CHR_H_INT to the flags
 * it keeps), so a context was made for every frame, 15 % of decoding a 128x128
 * video. A reused context gives the same pixels as a new one; a new size, or a
 * full-range frame, gets a context of its own. */
#include "lp_test.h"
#include "data/av.h"

#include <libavutil/frame.h>

/* A 4:2:0 frame with a gradient in every plane (limited or full range). */
static AVFrame *yuv_frame(int w, int h, int full_range) {
    AVFrame *f = av_frame_alloc();
    if (!f) return NULL;
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_YUV420P;
    f->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    if (av_frame_get_buffer(f, 0) < 0) {
        av_frame_free(&f);
        return NULL;
    }
    for (int p = 0; p < 3; ++p) {
        int pw = p ? (w + 1) / 2 : w, ph = p ? (h + 1) / 2 : h;
        for (int y = 0; y < ph; ++y)
            for (int x = 0; x < pw; ++x)
                f->data[p][y * f->linesize[p] + x] = (uint8_t)(16 + (x * 7 + y * 3 + p * 40) % 220);
    }
    return f;
}

static int same_floats(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

int main(void) {
    enum { W = 96, H = 80, OW = 64, OH = 64 };
    AVFrame *f = yuv_frame(W, H, 0), *full = yuv_frame(W, H, 1);
    float *first = malloc(sizeof(float) * 3 * OW * OH), *again = malloc(sizeof(float) * 3 * OW * OH),
          *fresh = malloc(sizeof(float) * 3 * OW * OH);
    if (!f || !full || !first || !again || !fresh) LP_SKIP_ALL("out of memory");
    lpi_scaler s = {0}, other = {0};

    LP_CHECK_OK(lpi_scale_floats(&s, f, OW, OH, SWS_BILINEAR, 0, first, "test"));
    LP_CHECK(s.sws != NULL && s.n_made == 1);
    LP_CHECK_OK(lpi_scale_floats(&s, f, OW, OH, SWS_BILINEAR, 0, again, "test"));
    LP_CHECK(s.n_made == 1); /* reused, not made again */
    LP_CHECK(same_floats(first, again, 3 * OW * OH));
    LP_CHECK_OK(lpi_scale_floats(&other, f, OW, OH, SWS_BILINEAR, 0, fresh, "test"));
    LP_CHECK(same_floats(first, fresh, 3 * OW * OH)); /* a new context: the same pixels */

    /* full range is another conversion: a context of its own, other pixels */
    LP_CHECK_OK(lpi_scale_floats(&s, full, OW, OH, SWS_BILINEAR, 0, again, "test"));
    LP_CHECK(s.key.full_range == 1 && s.n_made == 2);
    LP_CHECK(!same_floats(first, again, 3 * OW * OH));
    /* another output size, then back: the same pixels as at first */
    LP_CHECK_OK(lpi_scale_floats(&s, f, 32, 32, SWS_BILINEAR, 0, again, "test"));
    LP_CHECK(s.key.dst_w == 32 && s.key.dst_h == 32);
    LP_CHECK_OK(lpi_scale_floats(&s, f, OW, OH, SWS_BILINEAR, 0, again, "test"));
    LP_CHECK(same_floats(first, again, 3 * OW * OH) && s.n_made == 4);
    /* packed RGB from the same scaler: its own context, reused too */
    uint8_t rgb[OW * OH * 3];
    LP_CHECK_OK(lpi_scale_copy(&s, f, OW, OH, SWS_BILINEAR, rgb, OW * 3, "test"));
    LP_CHECK_OK(lpi_scale_copy(&s, f, OW, OH, SWS_BILINEAR, rgb, OW * 3, "test"));
    LP_CHECK(s.n_made == 5 && s.key.dst_fmt == AV_PIX_FMT_RGB24);

    lpi_scaler_free(&s);
    lpi_scaler_free(&other);
    av_frame_free(&f);
    av_frame_free(&full);
    free(first);
    free(again);
    free(fresh);
    LP_DONE();
}
