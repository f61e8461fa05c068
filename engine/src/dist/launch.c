/* launch.c: starting and watching local worker processes for
 * `lpose run --nproc N` (lpose/dist.h). posix_spawn, not fork: the parent
 * may hold libtorch and loader threads, and a forked copy of a threaded
 * process may only call async-signal-safe functions. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "lpose.h"

extern char **environ;

/* environ with env_set's variables replacing or extending it (pointers into
 * both; the caller frees the array only). */
static char **merged_environment(const char *const *env_set) {
    size_t n_env = 0, n_set = 0;
    while (environ && environ[n_env]) ++n_env;
    while (env_set && env_set[n_set]) ++n_set;
    char **env = malloc(sizeof(char *) * (n_env + n_set + 1));
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_env; ++i) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        int replaced = 0;
        for (size_t j = 0; j < n_set && !replaced; ++j) replaced = strncmp(env_set[j], environ[i], len) == 0;
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < n_set; ++j) env[k++] = (char *)env_set[j];
    env[k] = NULL;
    return env;
}

lp_status lp_process_spawn(const char *const *argv, const char *const *env_set, int64_t *pid) {
    if (!argv || !argv[0] || !pid) return lp_errorf(LP_STATUS_BAD_ARG, "lp_process_spawn", "argv and pid are required");
    for (size_t j = 0; env_set && env_set[j]; ++j)
        if (!strchr(env_set[j], '='))
            return lp_errorf(LP_STATUS_BAD_ARG, "lp_process_spawn", "env_set[%zu] '%s' is not KEY=VALUE", j, env_set[j]);
    char **env = merged_environment(env_set);
    if (!env) return lp_errorf(LP_STATUS_OOM, "lp_process_spawn", "out of memory");
    pid_t child = 0;
    int rc = posix_spawnp(&child, argv[0], NULL, NULL, (char *const *)argv, env);
    free(env);
    if (rc != 0) return lp_errorf(LP_STATUS_IO, "lp_process_spawn", "cannot start %s: %s", argv[0], strerror(rc));
    *pid = child;
    return LP_STATUS_OK;
}

lp_status lp_process_wait(int64_t pid, int32_t block, int32_t *ended, int32_t *code) {
    if (!ended || !code) return lp_errorf(LP_STATUS_BAD_ARG, "lp_process_wait", "ended and code are required");
    int status = 0;
    pid_t r;
    do r = waitpid((pid_t)pid, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0) return lp_errorf(LP_STATUS_BAD_ARG, "lp_process_wait", "process %lld: %s", (long long)pid, strerror(errno));
    *ended = r == (pid_t)pid;
    *code = 0;
    if (*ended) *code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
    return LP_STATUS_OK;
}

lp_status lp_process_kill(int64_t pid, int32_t signal) {
    if (pid <= 0) return lp_errorf(LP_STATUS_BAD_ARG, "lp_process_kill", "bad pid %lld", (long long)pid);
    if (kill((pid_t)pid, signal) != 0 && errno != ESRCH)
        return lp_errorf(LP_STATUS_IO, "lp_process_kill", "process %lld: %s", (long long)pid, strerror(errno));
    return LP_STATUS_OK;
}

lp_status lp_free_tcp_port(int32_t *port) {
    if (!port) return lp_errorf(LP_STATUS_BAD_ARG, "lp_free_tcp_port", "port is NULL");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return lp_errorf(LP_STATUS_IO, "lp_free_tcp_port", "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int e = errno;
        close(fd);
        return lp_errorf(LP_STATUS_IO, "lp_free_tcp_port", "%s", strerror(e));
    }
    close(fd);
    *port = ntohs(a.sin_port);
    return LP_STATUS_OK;
}
