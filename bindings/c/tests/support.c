/* The test harness declared in support.h. */
#define _POSIX_C_SOURCE 200809L

#include "support.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int test_failures = 0;

void check_fail(const char *file, int line, const char *what, const char *detail) {
    test_failures++;
    fprintf(stderr, "    %s:%d: %s%s%s\n", file, line, what, detail ? ": " : "",
            detail ? detail : "");
}

void check_str(const char *file, int line, const char *what, const char *actual,
               const char *expected) {
    if (actual == NULL && expected == NULL) return;
    if (actual != NULL && expected != NULL && strcmp(actual, expected) == 0) return;
    char detail[512];
    snprintf(detail, sizeof detail, "got %s, want %s", actual ? actual : "NULL",
             expected ? expected : "NULL");
    check_fail(file, line, what, detail);
}

int run_tests(int argc, char **argv, const Test *tests, size_t count) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
        test_failures = 0;
        tests[i].run();
        size_t handles = mizu_live_handle_count();
        size_t strings = mizu_live_string_count();
        if (handles != 0 || strings != 0) {
            char detail[128];
            snprintf(detail, sizeof detail, "%zu handles and %zu strings left unfreed", handles,
                     strings);
            check_fail(__FILE__, __LINE__, "leak check", detail);
        }
        if (test_failures == 0) {
            passed++;
            printf("ok - %s\n", tests[i].name);
        } else {
            failed++;
            printf("not ok - %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

const char *test_base_url(void) {
    const char *url = getenv("MIZU_TEST_BASE_URL");
    if (url == NULL || *url == '\0') {
        fprintf(stderr, "MIZU_TEST_BASE_URL is not set (scripts/test-c.sh sets it)\n");
        exit(2);
    }
    return url;
}

const char *test_scope(const char *name) {
    static char scope[160];
    snprintf(scope, sizeof scope, "c-%ld-%s", (long)getpid(), name);
    return scope;
}

char *test_options_for(const char *base_url, const char *scope, const char *storage_path) {
    char storage[600] = "";
    if (storage_path != NULL) snprintf(storage, sizeof storage, ",\"storage_path\":\"%s\"", storage_path);
    size_t size = strlen(base_url) + strlen(scope) + strlen(storage) + 256;
    char *json = malloc(size);
    if (json == NULL) abort();
    snprintf(json, size,
             "{\"base_url\":\"%s\",\"scope\":\"%s\",\"push_interval_ms\":50,"
             "\"pull_interval_ms\":100,\"request_timeout_ms\":5000,\"backoff_min_ms\":20,"
             "\"backoff_max_ms\":200%s}",
             base_url, scope, storage);
    return json;
}

char *test_options(const char *scope) { return test_options_for(test_base_url(), scope, NULL); }

bool server_start(Server *server, const char *addr, const char *db_path) {
    const char *bin = getenv("MIZU_SERVER_BIN");
    if (bin == NULL || *bin == '\0') {
        fprintf(stderr, "MIZU_SERVER_BIN is not set (scripts/test-c.sh sets it)\n");
        return false;
    }
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (db_path != NULL) {
            execl(bin, bin, "--addr", addr, "--admin", "--db", db_path, (char *)NULL);
        } else {
            execl(bin, bin, "--addr", addr, "--admin", (char *)NULL);
        }
        _exit(127);
    }
    close(fds[1]);
    server->pid = pid;
    server->stdout_fd = fds[0];
    char line[256];
    size_t used = 0;
    while (used + 1 < sizeof line) {
        ssize_t n = read(fds[0], line + used, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (line[used] == '\n') break;
        used++;
    }
    line[used] = '\0';
    const char *prefix = "listening on http://";
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "server did not start: %s\n", line);
        server_kill(server);
        return false;
    }
    const char *listening = line + strlen(prefix);
    size_t length = strlen(listening);
    if (length >= sizeof server->addr) {
        fprintf(stderr, "server address too long: %s\n", listening);
        server_kill(server);
        return false;
    }
    memcpy(server->addr, listening, length + 1);
    strcpy(server->base_url, "http://");
    strcat(server->base_url, server->addr);
    strcat(server->base_url, "/_sync");
    return true;
}

void server_kill(Server *server) {
    if (server->pid > 0) {
        kill(server->pid, SIGKILL);
        waitpid(server->pid, NULL, 0);
        server->pid = 0;
    }
    if (server->stdout_fd >= 0) {
        close(server->stdout_fd);
        server->stdout_fd = -1;
    }
}

bool admin_post(const char *base_url, const char *path, const char *body) {
    char host[128], port[16];
    if (sscanf(base_url, "http://%127[^:]:%15[0-9]", host, port) != 2) return false;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    if (getaddrinfo(host, port, &hints, &found) != 0) return false;
    int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
    bool connected = fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0;
    freeaddrinfo(found);
    if (!connected) {
        if (fd >= 0) close(fd);
        return false;
    }
    char request[1024];
    int length = snprintf(request, sizeof request,
                          "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          path, host, port, strlen(body), body);
    bool sent = length > 0 && (size_t)length < sizeof request &&
                write(fd, request, (size_t)length) == (ssize_t)length;
    char answer[64] = "";
    size_t used = 0;
    while (sent && used + 1 < sizeof answer) {
        ssize_t n = read(fd, answer + used, sizeof answer - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
    }
    answer[used] = '\0';
    close(fd);
    return strncmp(answer, "HTTP/1.1 200", 12) == 0;
}

bool wait_until(bool (*cond)(void *ctx), void *ctx, int timeout_ms) {
    struct timespec step = {0, 5 * 1000 * 1000};
    for (int waited = 0; waited <= timeout_ms; waited += 5) {
        if (cond(ctx)) return true;
        nanosleep(&step, NULL);
    }
    return cond(ctx);
}

void temp_db_path(char *buf, size_t size, const char *name) {
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/mizu-c-%ld-%s.db", dir && *dir ? dir : "/tmp", (long)getpid(), name);
    remove_db(buf);
}

void remove_db(const char *path) {
    char companion[600];
    unlink(path);
    snprintf(companion, sizeof companion, "%s-wal", path);
    unlink(companion);
    snprintf(companion, sizeof companion, "%s-shm", path);
    unlink(companion);
}

char *take_string(char *from_library) {
    if (from_library == NULL) return NULL;
    char *copy = strdup(from_library);
    if (mizu_string_free(from_library) != MIZU_OK) check_fail(__FILE__, __LINE__, "mizu_string_free", mizu_last_error_message());
    return copy;
}
