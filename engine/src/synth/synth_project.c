/* synth_project.c: lp_synth_generate writes a Lightning Pose project (videos,
 * labeled frames with context neighbours decoded from those videos,
 * CollectedData.csv, per-frame ground truth, metadata) from the motion and
 * renderer of synth_motion.c / synth_render.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/interrupt_internal.h"
#include "synth_internal.h"

static const char gen_fn[] = "lp_synth_generate";

/* ---------------------------------------------------------------- text buffer */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (m < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)m < b->cap) {
            b->n += (size_t)m;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)m;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Write b to path through path.tmp-<pid> and rename. */
static lp_status sb_save(sbuf *b, const char *path) {
    if (b->oom) return lp_errorf(LP_STATUS_OOM, gen_fn, "%s: out of memory", path);
    char *tmp = NULL;
    lp_status st = lp_tmp_begin(path, 1, gen_fn, &tmp);
    if (st) return st;
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        st = lp_errorf(LP_STATUS_IO, gen_fn, "%s: cannot create: %s", tmp, strerror(errno));
        lp_tmp_end(tmp);
        return st;
    }
    int ok = fwrite(b->s ? b->s : "", 1, b->n, fp) == b->n;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        st = lp_errorf(LP_STATUS_IO, gen_fn, "%s: cannot write: %s", path, strerror(errno));
        lp_tmp_discard(tmp);
        return st;
    }
    lp_tmp_end(tmp);
    return LP_STATUS_OK;
}

static lp_status mkdirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return lp_errorf(LP_STATUS_BAD_ARG, gen_fn, "bad directory '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lp_errorf(LP_STATUS_IO, gen_fn, "cannot create %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lp_errorf(LP_STATUS_IO, gen_fn, "%s is not a directory", path);
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- rendering API */
lp_status lp_synth_render_frame(const lp_synth_params *p, int32_t idx_video, int64_t idx_frame,
                                uint8_t *rgb) {
    static const char fn[] = "lp_synth_render_frame";
    lp_status st = lp_synth_check_params(p);
    if (st) return st;
    if (idx_video < 0 || idx_video >= p->n_videos || idx_frame < 0 || idx_frame >= p->n_frames)
        return lp_errorf(LP_STATUS_BAD_ARG, fn, "video %d frame %lld out of range", idx_video,
                         (long long)idx_frame);
    if (!rgb) return lp_errorf(LP_STATUS_BAD_ARG, fn, "rgb is NULL");
    lps_video v;
    lps_texture tex;
    if ((st = lps_video_init(p, idx_video, &v))) return st;
    if ((st = lps_texture_init(&v, &tex))) {
        lps_video_free(&v);
        return st;
    }
    double xy[2 * LPS_MAX_KEYPOINTS];
    lps_pose(&v, idx_frame, xy);
    lps_render(&v, &tex, idx_frame, xy, rgb);
    lps_texture_free(&tex);
    lps_video_free(&v);
    return LP_STATUS_OK;
}

/* ---------------------------------------------------------------- generate */
typedef struct video_out {
    char stem[32];
    int64_t n_labeled, n_occluded_frames;
    int64_t *labeled;
    float *xy;
    uint8_t *occ;
} video_out;

/* The 3-row DLC/LP header: scorer, bodyparts, coords (n_coords per keypoint). */
static void names_header(sbuf *b, char names[][32], int K, const char *coords[], int n_coords,
                         const char *scorer) {
    sb_printf(b, "scorer");
    for (int k = 0; k < K * n_coords; k++) sb_printf(b, ",%s", scorer);
    sb_printf(b, "\nbodyparts");
    for (int k = 0; k < K; k++)
        for (int c = 0; c < n_coords; c++) sb_printf(b, ",%s", names[k]);
    sb_printf(b, "\ncoords");
    for (int k = 0; k < K; k++)
        for (int c = 0; c < n_coords; c++) sb_printf(b, ",%s", coords[c]);
    sb_printf(b, "\n");
}

/* Render, encode, write ground truth and the labeled PNGs of one video. */
/* Held-out test videos live apart from the training videos, so the
 * unlabeled stream of semi-supervised training (data.video_dir) never sees
 * the videos the demo scores. */
static const char *video_dir(const lp_synth_params *p, int32_t iv) {
    return iv >= p->n_videos - p->n_test_videos ? "videos_test" : "videos";
}

static lp_status one_video(const lp_synth_params *p, const char *out_dir, int32_t iv, video_out *vo,
                           char names[][32], char *codec, size_t codec_cap) {
    lp_status st;
    int K = p->n_keypoints, W = p->width, H = p->height;
    int64_t F = p->n_frames;
    char path[4200];
    lps_video v;
    lps_texture tex = {0, 0, NULL};
    lps_encoder *wr = NULL;
    lp_video *rd = NULL;
    uint8_t *rgb = NULL, *need = NULL;
    sbuf b = {0};
    if ((st = lps_video_init(p, iv, &v))) return st;
    if ((st = lps_texture_init(&v, &tex))) goto done;
    /* padded and zeroed: swscale may read past the last row */
    if (!(rgb = calloc((size_t)W * (H + 4) * 3 + 256, 1)) || !(vo->xy = malloc(sizeof(float) * (size_t)F * K * 2)) ||
        !(vo->occ = malloc((size_t)F * K)) || !(need = calloc((size_t)F, 1)) ||
        !(vo->labeled = malloc(sizeof(int64_t) * (size_t)(p->n_labeled_per_video + 1)))) {
        st = lp_errorf(LP_STATUS_OOM, gen_fn, "out of memory");
        goto done;
    }
    if ((st = lp_synth_keypoints(p, iv, vo->xy, vo->occ))) goto done;
    snprintf(path, sizeof path, "%s/%s/%s.mp4", out_dir, video_dir(p, iv), vo->stem);
    if ((st = lps_encoder_open(path, W, H, p->fps, &wr))) goto done;
    for (int64_t f = 0; f < F; f++) {
        double xy[2 * LPS_MAX_KEYPOINTS];
        for (int k = 0; k < 2 * K; k++) xy[k] = vo->xy[f * 2 * K + k];
        lps_render(&v, &tex, f, xy, rgb);
        if ((st = lps_encoder_write(wr, rgb))) goto done;
    }
    if ((st = lps_encoder_close(wr))) goto done;

    /* Ground truth: LP prediction layout, and the occlusion flags. */
    static const char *xyl[3] = {"x", "y", "likelihood"};
    names_header(&b, names, K, xyl, 3, "lpose_synth");
    vo->n_occluded_frames = 0;
    for (int64_t f = 0; f < F; f++) {
        sb_printf(&b, "%lld", (long long)f);
        for (int k = 0; k < K; k++)
            sb_printf(&b, ",%.4f,%.4f,1.0", vo->xy[(f * K + k) * 2], vo->xy[(f * K + k) * 2 + 1]);
        sb_printf(&b, "\n");
    }
    snprintf(path, sizeof path, "%s/videos_gt/%s.csv", out_dir, vo->stem);
    if ((st = sb_save(&b, path))) goto done;
    b.n = 0;
    for (int k = 0; k < K; k++) sb_printf(&b, ",%s", names[k]);
    sb_printf(&b, "\n");
    for (int64_t f = 0; f < F; f++) {
        int any = 0;
        sb_printf(&b, "%lld", (long long)f);
        for (int k = 0; k < K; k++) {
            sb_printf(&b, ",%d", vo->occ[f * K + k]);
            any |= vo->occ[f * K + k];
        }
        sb_printf(&b, "\n");
        vo->n_occluded_frames += any;
    }
    snprintf(path, sizeof path, "%s/videos_gt/%s_occluded.csv", out_dir, vo->stem);
    if ((st = sb_save(&b, path))) goto done;

    /* Check the written video, then labeled frames + context from its decode. */
    snprintf(path, sizeof path, "%s/%s/%s.mp4", out_dir, video_dir(p, iv), vo->stem);
    if ((st = lp_video_open(path, 1, &rd))) goto done;
    snprintf(codec, codec_cap, "%s", lp_video_codec_name(rd));
    if (lp_video_n_frames(rd) != F || lp_video_width(rd) != W || lp_video_height(rd) != H) {
        st = lp_errorf(LP_STATUS_INTERNAL, gen_fn, "%s: wrote %lld frames %dx%d, reads back %lld %dx%d", path, (long long)F, W, H, (long long)lp_video_n_frames(rd),
                       lp_video_width(rd), lp_video_height(rd));
        goto done;
    }
    if ((st = lp_synth_labeled_frames(p, iv, p->n_labeled_per_video + 1, vo->labeled, &vo->n_labeled)))
        goto done;
    if (vo->n_labeled == 0) goto done;
    int64_t last = 0;
    for (int64_t i = 0; i < vo->n_labeled; i++)
        for (int64_t f = vo->labeled[i] - p->context; f <= vo->labeled[i] + p->context; f++)
            if (f >= 0 && f < F) {
                need[f] = 1;
                if (f > last) last = f;
            }
    snprintf(path, sizeof path, "%s/labeled-data/%s", out_dir, vo->stem);
    if ((st = mkdirs(path))) goto done;
    for (int64_t f = 0; f <= last; f++) { /* forward, in order: no seeks */
        if ((st = lp_video_read_frame_rgb_into(rd, f, rgb))) goto done;
        if (!need[f]) continue;
        snprintf(path, sizeof path, "%s/labeled-data/%s/img%0*lld.png", out_dir, vo->stem,
                 p->index_width, (long long)f);
        if ((st = lp_image_write_png(path, rgb, W, H, 3, (int64_t)W * 3))) goto done;
    }
done:
    free(b.s);
    lp_video_free(rd);
    lps_encoder_free(wr);
    free(rgb);
    free(need);
    lps_texture_free(&tex);
    lps_video_free(&v);
    return st;
}

static void json_params(sbuf *b, const lp_synth_params *p) {
    sb_printf(b,
              "  \"params\": {\"n_videos\": %d, \"n_test_videos\": %d, \"n_frames\": %d, "
              "\"n_keypoints\": %d, \"width\": %d, \"height\": %d, \"fps\": %.17g, "
              "\"n_labeled_per_video\": %d, \"context\": %d, \"index_width\": %d, "
              "\"occluder_rate\": %.17g, \"noise_sigma\": %.17g, \"seed\": %llu},\n",
              p->n_videos, p->n_test_videos, p->n_frames, p->n_keypoints, p->width, p->height, p->fps,
              p->n_labeled_per_video, p->context, p->index_width, p->occluder_rate, p->noise_sigma,
              (unsigned long long)p->seed);
}

lp_status lp_synth_generate(const lp_synth_params *p, const char *out_dir) {
    lp_status st = lp_synth_check_params(p);
    if (st) return st;
    if (!out_dir || !*out_dir) return lp_errorf(LP_STATUS_BAD_ARG, gen_fn, "out_dir is empty");
    if (strlen(out_dir) > 3000) return lp_errorf(LP_STATUS_BAD_ARG, gen_fn, "out_dir is too long");
    int K = p->n_keypoints, nv = p->n_videos;
    char names[LPS_MAX_KEYPOINTS][32], path[4200], codec[64] = "";
    for (int k = 0; k < K; k++) lp_synth_keypoint_name(K, k, sizeof names[k], names[k]);
    static const char *subdirs[4] = {"videos", "videos_test", "videos_gt", "labeled-data"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, subdirs[i]);
        if ((st = mkdirs(path))) return st;
    }
    video_out *vo = calloc((size_t)nv, sizeof *vo);
    if (!vo) return lp_errorf(LP_STATUS_OOM, gen_fn, "out of memory");
    int digits = nv > 100 ? (nv > 1000 ? 4 : 3) : 2;
    sbuf b = {0};
    for (int32_t i = 0; i < nv; i++) {
        snprintf(vo[i].stem, sizeof vo[i].stem, "synth_%0*d", digits, i);
        if ((st = one_video(p, out_dir, i, &vo[i], names, codec, sizeof codec))) goto done;
    }
    /* CollectedData.csv: occluded keypoints are labeled too, as annotators do. */
    static const char *xy2[2] = {"x", "y"};
    names_header(&b, names, K, xy2, 2, "lpose_synth");
    int64_t n_rows = 0;
    for (int32_t i = 0; i < nv; i++)
        for (int64_t j = 0; j < vo[i].n_labeled; j++) {
            int64_t f = vo[i].labeled[j];
            sb_printf(&b, "labeled-data/%s/img%0*lld.png", vo[i].stem, p->index_width, (long long)f);
            for (int k = 0; k < 2 * K; k++) sb_printf(&b, ",%.4f", vo[i].xy[f * 2 * K + k]);
            sb_printf(&b, "\n");
            n_rows++;
        }
    snprintf(path, sizeof path, "%s/CollectedData.csv", out_dir);
    if ((st = sb_save(&b, path))) goto done;

    /* metadata.json (by hand: no JSON library in C). */
    b.n = 0;
    sb_printf(&b, "{\n  \"generator\": \"lpose_synth\",\n  \"format_version\": 1,\n");
    json_params(&b, p);
    sb_printf(&b, "  \"keypoints\": [");
    for (int k = 0; k < K; k++) sb_printf(&b, "%s\"%s\"", k ? ", " : "", names[k]);
    sb_printf(&b, "],\n  \"labels_csv\": \"CollectedData.csv\",\n  \"n_labeled_frames\": %lld,\n",
              (long long)n_rows);
    sb_printf(&b, "  \"video_codec\": \"%s\",\n  \"labeled_frames_source\": \"decoded video\",\n", codec);
    sb_printf(&b, "  \"coordinates\": \"pixels, pixel centres at integers\",\n  \"videos\": [\n");
    for (int32_t i = 0; i < nv; i++) {
        sb_printf(&b,
                  "    {\"name\": \"%s\", \"video\": \"%s/%s.mp4\", \"ground_truth\": "
                  "\"videos_gt/%s.csv\", \"occlusion\": \"videos_gt/%s_occluded.csv\", "
                  "\"split\": \"%s\", \"n_frames\": %d, \"n_occluded_frames\": %lld, "
                  "\"labeled_frames\": [",
                  vo[i].stem, video_dir(p, i), vo[i].stem, vo[i].stem, vo[i].stem,
                  i < nv - p->n_test_videos ? "labeled" : "test", p->n_frames,
                  (long long)vo[i].n_occluded_frames);
        for (int64_t j = 0; j < vo[i].n_labeled; j++)
            sb_printf(&b, "%s%lld", j ? ", " : "", (long long)vo[i].labeled[j]);
        sb_printf(&b, "]}%s\n", i + 1 < nv ? "," : "");
    }
    sb_printf(&b, "  ],\n  \"labeled_videos\": [");
    for (int32_t i = 0; i < nv - p->n_test_videos; i++) sb_printf(&b, "%s\"%s\"", i ? ", " : "", vo[i].stem);
    sb_printf(&b, "],\n  \"test_videos\": [");
    for (int32_t i = nv - p->n_test_videos; i < nv; i++)
        sb_printf(&b, "%s\"%s\"", i > nv - p->n_test_videos ? ", " : "", vo[i].stem);
    sb_printf(&b, "]\n}\n");
    snprintf(path, sizeof path, "%s/metadata.json", out_dir);
    if ((st = sb_save(&b, path))) goto done;

    b.n = 0;
    sb_printf(&b,
              "Synthetic Lightning Pose project written by lpose synth (lp_synth_generate).\n"
              "Deterministic: the same parameters (metadata.json) give the same files.\n\n"
              "videos/synth_NN.mp4          %d videos, %d frames each, %dx%d, %g fps (%s);\n"
              "                             the held-out test videos are in videos_test/, so\n"
              "                             semi-supervised training (data.video_dir = videos)\n"
              "                             never sees them\n"
              "labeled-data/<stem>/         labeled frames img<n>.png and their +-%d context\n"
              "                             frames, decoded from the video (RGB PNG)\n"
              "CollectedData.csv            %lld labeled frames, DLC 3-row header, scorer\n"
              "                             lpose_synth; occluded keypoints are labeled too\n"
              "videos_gt/<stem>.csv         every frame: x, y, likelihood (= 1), LP's\n"
              "                             prediction CSV layout\n"
              "videos_gt/<stem>_occluded.csv every frame: 1 where an occluder hides the keypoint\n"
              "metadata.json                parameters, keypoints, split, labeled frames\n\n"
              "Split: labeled videos are the first %d; the last %d (test) have no labeled frames.\n"
              "Keypoints (a chain from nose to tail tip):",
              nv, p->n_frames, p->width, p->height, p->fps, codec, p->context, (long long)n_rows,
              nv - p->n_test_videos, p->n_test_videos);
    for (int k = 0; k < K; k++) sb_printf(&b, " %s", names[k]);
    sb_printf(&b, "\nCoordinates are pixels with pixel centres at integer values.\n");
    snprintf(path, sizeof path, "%s/README.txt", out_dir);
    st = sb_save(&b, path);
done:
    free(b.s);
    for (int32_t i = 0; i < nv; i++) {
        free(vo[i].labeled);
        free(vo[i].xy);
        free(vo[i].occ);
    }
    free(vo);
    return st;
}
