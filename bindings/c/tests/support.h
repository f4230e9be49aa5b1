/*
 * A small test harness for the C API tests: checks that count and report instead of aborting,
 * a table of named tests, a reference server to talk to, and waits bounded by a timeout.
 */
#ifndef MIZU_TEST_SUPPORT_H
#define MIZU_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mizu_sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Failures of the running test; a test passes when none were recorded. */
extern int test_failures;

void check_fail(const char *file, int line, const char *what, const char *detail);

/* Fails the current test (and goes on) when `cond` is false. */
#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) check_fail(__FILE__, __LINE__, #cond, NULL);                               \
    } while (0)

/* Fails the current test when `call` does not return `expected`; shows the last error. */
#define CHECK_STATUS(call, expected)                                                            \
    do {                                                                                        \
        MizuStatus check_status_ = (call);                                                      \
        if (check_status_ != (expected)) {                                                      \
            check_fail(__FILE__, __LINE__, #call, mizu_status_name(check_status_));             \
            check_fail(__FILE__, __LINE__, "  last error", mizu_last_error_message());          \
        }                                                                                       \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, MIZU_OK)

/* Fails the current test when the two C strings differ (either may be NULL). */
#define CHECK_STR(actual, expected) check_str(__FILE__, __LINE__, #actual, (actual), (expected))
void check_str(const char *file, int line, const char *what, const char *actual,
               const char *expected);

/* One test: a name (a sentence) and its body. */
typedef struct {
    const char *name;
    void (*run)(void);
} Test;

/* Runs every test (or only the one named in argv[1]), prints `ok - name` / `not ok - name`
 * per test and `N passed, M failed`, and returns the process exit code. Each test must end
 * with no live handle and no unfreed string of the library, which is checked too. */
int run_tests(int argc, char **argv, const Test *tests, size_t count);

/* The shared reference server of the run (MIZU_TEST_BASE_URL, e.g. http://127.0.0.1:N/_sync). */
const char *test_base_url(void);

/* A scope unique to this process and `name`. Static storage, valid until the next call. */
const char *test_scope(const char *name);

/* Client options JSON for the shared server and `scope` (quick intervals, in memory). */
char *test_options(const char *scope);

/* Client options JSON for `base_url`, `scope`, and an optional storage path (may be NULL). */
char *test_options_for(const char *base_url, const char *scope, const char *storage_path);

/* A reference server process of this test's own (MIZU_SERVER_BIN). */
typedef struct {
    pid_t pid;
    int stdout_fd;     /* read end of the server's stdout */
    char addr[64];     /* host:port */
    char base_url[96]; /* http://host:port/_sync */
} Server;

/* Starts `mizu-sync-server --addr ADDR --admin [--db DB]`; ADDR may end in :0. */
bool server_start(Server *server, const char *addr, const char *db_path);

/* Kills the server (SIGKILL) and reaps it. */
void server_kill(Server *server);

/* POSTs `body` (JSON) to `path` of the server behind `base_url` (http://host:port/...) and
 * returns whether it answered 200. For the admin API (`/_admin/reject`, `/_admin/trim`). */
bool admin_post(const char *base_url, const char *path, const char *body);

/* Polls `cond(ctx)` every 5 ms until it holds or `timeout_ms` passes; returns whether it held. */
bool wait_until(bool (*cond)(void *ctx), void *ctx, int timeout_ms);

/* A path for a SQLite file unique to this process and `name` (removed first if present). */
void temp_db_path(char *buf, size_t size, const char *name);

/* Removes a SQLite file with its -wal and -shm companions. */
void remove_db(const char *path);

/* Reads a string out-parameter's JSON and frees it; returns a malloc'd copy for comparing. */
char *take_string(char *from_library);

#ifdef __cplusplus
}
#endif

#endif
