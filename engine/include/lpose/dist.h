/* lpose/dist.h: section of the public API (included by lpose.h; see its rules). */
#ifndef LPOSE_DIST_H
#define LPOSE_DIST_H

/* Included at the end of lpose.h; include lpose.h, not this file. */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Process groups: libtorch's c10d (engine/shim/dist.cpp). Gloo for CPU
 * tensors, NCCL for CUDA tensors when the linked libtorch has it. Rendezvous
 * through a c10d TCPStore served by rank 0 at master_addr:master_port, or a
 * FileStore at store_path (a file on a path every process sees). Every
 * collective blocks until all ranks reach it or timeout_ms passes; a rank
 * that dies makes the others' collectives fail (connection closed or
 * timeout) with an error, never hang forever.
 * ------------------------------------------------------------------------ */

typedef struct lp_dist lp_dist;

typedef enum lp_dist_backend {
    LP_DIST_GLOO = 0, /* CPU tensors */
    LP_DIST_NCCL = 1  /* CUDA tensors; needs a CUDA libtorch built with NCCL */
} lp_dist_backend;

typedef enum lp_dist_op {
    LP_DIST_SUM = 0,
    LP_DIST_AVG = 1, /* sum / world_size */
    LP_DIST_MAX = 2,
    LP_DIST_MIN = 3
} lp_dist_op;

typedef struct lp_dist_params {
    int32_t backend;            /* lp_dist_backend */
    int32_t rank;               /* 0 .. world_size-1 */
    int32_t world_size;         /* >= 1 */
    const char *master_addr;    /* TCPStore host; rank 0 listens (NULL: 127.0.0.1) */
    int32_t master_port;        /* TCPStore port (0: 29500) */
    const char *store_path;     /* non-NULL, non-empty: FileStore instead of TCP */
    const char *gloo_interface; /* Gloo's network interface, e.g. "eth0" (NULL: see below) */
    int64_t timeout_ms;         /* rendezvous and every collective (<= 0: 30 min) */
    int32_t store_served;       /* 1: a launcher already serves the TCPStore (torchrun's
                                   agent store): rank 0 connects as a client too */
} lp_dist_params;

/* Gloo binds to gloo_interface if given, else to 127.0.0.1 when master_addr is
 * a loopback address (one machine), else to the address this machine's host
 * name resolves to (c10d's default). */

/* GLOO, rank 0, world 1, 127.0.0.1:29500, TCP, 30 min. nothrow */
lp_dist_params lp_dist_default_params(void);

/* 1 if this build can create a group with `backend`. nothrow */
int32_t lp_dist_backend_available(int32_t backend);

/* Joins the group: blocks until all world_size ranks have joined (or the
 * timeout passes). */
lp_status lp_dist_init(const lp_dist_params *params, lp_dist **out);
/* Leaves the group (no collective; peers still in a collective get an error). nothrow */
void lp_dist_free(lp_dist *group);
int32_t lp_dist_rank(const lp_dist *group);       /* nothrow; -1 for NULL */
int32_t lp_dist_world_size(const lp_dist *group); /* nothrow; -1 for NULL */

/* In-place all-reduce of n tensors (same device, any float or integer
 * dtype; AVG needs floating point). Tensors are packed into flat buckets of
 * at most bucket_bytes (<= 0: 25 MiB) per dtype, one collective per bucket,
 * all buckets in flight at once. Works on parameters and their gradients
 * (autograd is not recorded). */
lp_status lp_dist_all_reduce(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t op,
                             int64_t bucket_bytes);
/* In-place broadcast of n tensors from rank `root` (bucketed like all_reduce). */
lp_status lp_dist_broadcast(lp_dist *group, lp_tensor *const *tensors, int32_t n, int32_t root);
/* Returns when every rank has called it. */
lp_status lp_dist_barrier(lp_dist *group);

/* Synchronised batch norm (LP trains with sync_batchnorm=True): training-mode
 * batch norm whose mean and variance are those of the batches of all ranks
 * together (two all-reduces per call: statistics forward, gradient sums
 * backward), so N ranks normalise exactly as one process on the combined
 * batch. Running statistics are updated with the global values. Every rank
 * must make the same calls in the same order. x (N, C, ...). */
lp_status lp_nn_sync_batch_norm(lp_dist *group, const lp_tensor *x, const lp_tensor *weight,
                                const lp_tensor *bias, lp_tensor *running_mean,
                                lp_tensor *running_var, double momentum, double eps,
                                lp_tensor **out);
/* Batch norm of `model` in training mode synchronised over `group` (NULL:
 * off, each process uses its own batch). The group must outlive the
 * setting. */
lp_status lp_model_set_sync_batchnorm(lp_model *model, lp_dist *group);

/* ------------------------------------------------------------------------
 * Local worker processes (engine/src/dist/launch.c), for `lpose run --nproc N`.
 * ------------------------------------------------------------------------ */

/* Starts argv[0] (searched in PATH unless it has a '/') with argv, in the
 * current environment plus env_set ("KEY=VALUE" strings, NULL-terminated
 * or NULL; they replace variables of the same name). */
lp_status lp_process_spawn(const char *const *argv, const char *const *env_set, int64_t *pid);
/* Reaps pid if it has ended: *ended = 1 and *code = exit status, or 128 +
 * signal number if it was killed. block = 0 returns at once (*ended = 0
 * while it runs). */
lp_status lp_process_wait(int64_t pid, int32_t block, int32_t *ended, int32_t *code);
lp_status lp_process_kill(int64_t pid, int32_t signal);
/* A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0). */
lp_status lp_free_tcp_port(int32_t *port);

#ifdef __cplusplus
}
#endif

#endif /* LPOSE_DIST_H */
