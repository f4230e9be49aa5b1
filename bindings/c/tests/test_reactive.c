/* Signals, computeds, effects, batches and subscriptions of JSON values, driven from C. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* A computed's state: the signals it reads and how often it ran. */
typedef struct {
    MizuSignal *a;
    MizuSignal *b;
    int runs;
    int released;
} Sum;

/* Reads two integer signals (tracked) and returns their sum as malloc'd JSON text. */
static char *compute_sum(void *user_data) {
    Sum *sum = user_data;
    sum->runs++;
    char *a = NULL, *b = NULL;
    if (mizu_signal_get(sum->a, &a) != MIZU_OK || mizu_signal_get(sum->b, &b) != MIZU_OK) {
        mizu_string_free(a);
        return NULL;
    }
    char *result = malloc(32);
    snprintf(result, 32, "%ld", strtol(a, NULL, 10) + strtol(b, NULL, 10));
    mizu_string_free(a);
    mizu_string_free(b);
    return result;
}

static void mark_released(void *user_data) { ((Sum *)user_data)->released++; }

static void signal_holds_json_values_and_equal_writes_notify_nobody(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("{\"b\":[1,2],\"a\":\"x\"}", &signal));
    char *text = NULL;
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_STR(text, "{\"a\":\"x\",\"b\":[1,2]}");
    CHECK_OK(mizu_string_free(text));
    CHECK_OK(mizu_signal_set(signal, "null"));
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_STR(text, "null");
    CHECK_OK(mizu_string_free(text));
    CHECK_OK(mizu_signal_free(signal));
}

static void computed_runs_lazily_caches_and_follows_its_signals(void) {
    Sum sum = {0};
    CHECK_OK(mizu_signal_new("2", &sum.a));
    CHECK_OK(mizu_signal_new("3", &sum.b));
    MizuComputed *total = NULL;
    CHECK_OK(mizu_computed_new(compute_sum, &sum, mark_released, &total));
    CHECK(sum.runs == 0);
    char *text = NULL;
    CHECK_OK(mizu_computed_get(total, &text));
    CHECK_STR(text, "5");
    CHECK_OK(mizu_string_free(text));
    CHECK_OK(mizu_computed_get(total, &text));
    CHECK_OK(mizu_string_free(text));
    CHECK(sum.runs == 1);
    CHECK_OK(mizu_signal_set(sum.a, "10"));
    CHECK_OK(mizu_computed_get(total, &text));
    CHECK_STR(text, "13");
    CHECK_OK(mizu_string_free(text));
    CHECK(sum.runs == 2);
    CHECK(sum.released == 0);
    CHECK_OK(mizu_computed_free(total));
    CHECK(sum.released == 1);
    CHECK_OK(mizu_signal_free(sum.a));
    CHECK_OK(mizu_signal_free(sum.b));
}

/* An effect's state: what it saw, as JSON texts joined by spaces. */
typedef struct {
    const MizuComputed *total;
    const MizuSignal *signal;
    char seen[256];
    int runs;
} Watch;

static void append(Watch *watch, const char *text) {
    size_t used = strlen(watch->seen);
    snprintf(watch->seen + used, sizeof watch->seen - used, "%s%s", used ? " " : "",
             text ? text : "NULL");
}

static void watch_total(void *user_data) {
    Watch *watch = user_data;
    watch->runs++;
    char *text = NULL;
    if (mizu_computed_get(watch->total, &text) == MIZU_OK) append(watch, text);
    mizu_string_free(text);
}

static void set_both(void *user_data) {
    Sum *sum = user_data;
    mizu_signal_set(sum->a, "100");
    mizu_signal_set(sum->b, "200");
}

static void effect_reruns_once_per_batch_and_stops_when_freed(void) {
    Sum sum = {0};
    CHECK_OK(mizu_signal_new("1", &sum.a));
    CHECK_OK(mizu_signal_new("1", &sum.b));
    MizuComputed *total = NULL;
    CHECK_OK(mizu_computed_new(compute_sum, &sum, NULL, &total));
    Watch watch = {.total = total};
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_total, &watch, NULL, &effect));
    CHECK_OK(mizu_signal_set(sum.a, "2"));
    CHECK_OK(mizu_batch(set_both, &sum));
    CHECK_STR(watch.seen, "2 3 300");
    CHECK(watch.runs == 3);
    CHECK_OK(mizu_effect_free(effect));
    CHECK_OK(mizu_signal_set(sum.a, "7"));
    CHECK(watch.runs == 3);
    CHECK_OK(mizu_computed_free(total));
    CHECK_OK(mizu_signal_free(sum.a));
    CHECK_OK(mizu_signal_free(sum.b));
}

static void read_b_untracked(void *user_data) {
    Watch *watch = user_data;
    char *text = NULL;
    if (mizu_signal_get(watch->signal, &text) == MIZU_OK) append(watch, text);
    mizu_string_free(text);
}

/* Reads `a` tracked and `b` (in watch->signal) untracked. */
typedef struct {
    const MizuSignal *a;
    Watch watch;
} Untracked;

static void watch_a_tracked_b_untracked(void *user_data) {
    Untracked *u = user_data;
    char *text = NULL;
    if (mizu_signal_get(u->a, &text) == MIZU_OK) append(&u->watch, text);
    mizu_string_free(text);
    mizu_untracked(read_b_untracked, &u->watch);
}

static void untracked_reads_do_not_wake_an_effect(void) {
    MizuSignal *a = NULL, *b = NULL;
    CHECK_OK(mizu_signal_new("1", &a));
    CHECK_OK(mizu_signal_new("10", &b));
    Untracked u = {.a = a, .watch = {.signal = b}};
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_a_tracked_b_untracked, &u, NULL, &effect));
    CHECK_OK(mizu_signal_set(b, "20"));
    CHECK_OK(mizu_signal_set(a, "2"));
    CHECK_STR(u.watch.seen, "1 10 2 20");
    CHECK_OK(mizu_effect_free(effect));
    CHECK_OK(mizu_signal_free(a));
    CHECK_OK(mizu_signal_free(b));
}

static void record_value(void *user_data, const char *json) { append(user_data, json); }

static void record_nothing(void *user_data) { ((Watch *)user_data)->runs++; }

static void release_watch(void *user_data) { ((Watch *)user_data)->runs = -1; }

static void subscription_delivers_the_current_value_first_then_changes_until_freed(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("\"a\"", &signal));
    Watch watch = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_signal_subscribe(signal, record_value, &watch, release_watch, &subscription));
    CHECK_OK(mizu_signal_set(signal, "\"b\""));
    CHECK_OK(mizu_signal_set(signal, "\"b\""));
    CHECK_STR(watch.seen, "\"a\" \"b\"");
    CHECK_OK(mizu_subscription_free(subscription));
    CHECK(watch.runs == -1);
    CHECK_OK(mizu_signal_set(signal, "\"c\""));
    CHECK_STR(watch.seen, "\"a\" \"b\"");
    CHECK_OK(mizu_signal_free(signal));
}

static char *compute_null(void *user_data) {
    (void)user_data;
    return NULL;
}

static char *compute_garbage(void *user_data) {
    (void)user_data;
    char *text = malloc(8);
    strcpy(text, "{nope");
    return text;
}

static void computed_reports_a_function_that_returns_null_or_not_json(void) {
    MizuComputed *nothing = NULL, *garbage = NULL;
    CHECK_OK(mizu_computed_new(compute_null, NULL, NULL, &nothing));
    CHECK_OK(mizu_computed_new(compute_garbage, NULL, NULL, &garbage));
    char *text = (char *)"untouched";
    CHECK_STATUS(mizu_computed_get(nothing, &text), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(text == NULL);
    CHECK(strstr(mizu_last_error_message(), "NULL") != NULL);
    CHECK_STATUS(mizu_computed_get(garbage, &text), MIZU_ERR_INVALID_JSON);
    CHECK(strstr(mizu_last_error_message(), "not JSON") != NULL);
    CHECK_OK(mizu_computed_free(nothing));
    CHECK_OK(mizu_computed_free(garbage));
}

/* ---- mizu_signal_update ---------------------------------------------------------------- */

enum { UPDATE_THREADS = 8, UPDATES_PER_THREAD = 500 };

/* What the update functions of one test share. */
typedef struct {
    MizuSignal *signal;
    pthread_barrier_t start;  /* every thread starts updating at once */
    atomic_int calls;         /* runs of the update function, retries included */
    atomic_int failures;      /* mizu_signal_update calls that did not return MIZU_OK */
    atomic_long effect_saw;   /* the last value the effect read */
    atomic_int effect_runs;
} Counter;

/* The update function of a counter: current + 1, as malloc'd JSON text. It yields before
 * returning, so that other threads write meanwhile and the compare-and-set has to retry
 * (a read followed by a write would lose their increments). */
static char *increment(void *user_data, const char *current_json) {
    Counter *counter = user_data;
    atomic_fetch_add(&counter->calls, 1);
    long next = strtol(current_json, NULL, 10) + 1;
    sched_yield();
    char *text = malloc(32);
    if (text != NULL) snprintf(text, 32, "%ld", next);
    return text;
}

static void *increment_many(void *arg) {
    Counter *counter = arg;
    pthread_barrier_wait(&counter->start);
    for (int i = 0; i < UPDATES_PER_THREAD; i++) {
        if (mizu_signal_update(counter->signal, increment, counter) != MIZU_OK) {
            atomic_fetch_add(&counter->failures, 1);
        }
    }
    return NULL;
}

/* An effect reading the counter's signal; runs on whichever thread's update woke it. */
static void watch_counter(void *user_data) {
    Counter *counter = user_data;
    atomic_fetch_add(&counter->effect_runs, 1);
    char *text = NULL;
    if (mizu_signal_get(counter->signal, &text) == MIZU_OK) {
        atomic_store(&counter->effect_saw, strtol(text, NULL, 10));
    }
    mizu_string_free(text);
}

static void update_from_many_threads_counts_every_increment(void) {
    Counter counter = {0};
    atomic_init(&counter.effect_saw, -1);
    CHECK_OK(mizu_signal_new("0", &counter.signal));
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_counter, &counter, NULL, &effect));
    CHECK(atomic_load(&counter.effect_saw) == 0);
    CHECK(pthread_barrier_init(&counter.start, NULL, UPDATE_THREADS) == 0);
    pthread_t threads[UPDATE_THREADS];
    for (int i = 0; i < UPDATE_THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, increment_many, &counter) == 0);
    }
    for (int i = 0; i < UPDATE_THREADS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&counter.start);

    const long total = UPDATE_THREADS * UPDATES_PER_THREAD;
    CHECK(atomic_load(&counter.failures) == 0);
    char *text = NULL;
    CHECK_OK(mizu_signal_get(counter.signal, &text));
    char expected[32];
    snprintf(expected, sizeof expected, "%ld", total);
    CHECK_STR(text, expected);
    CHECK_OK(mizu_string_free(text));
    /* Every update ran the function at least once; a retry runs it again. */
    CHECK(atomic_load(&counter.calls) >= total);
    /* Updates woke the effect on the updating threads; its last run saw the final value. */
    CHECK(atomic_load(&counter.effect_saw) == total);
    CHECK(atomic_load(&counter.effect_runs) > 1);
    CHECK_OK(mizu_effect_free(effect));
    CHECK_OK(mizu_signal_free(counter.signal));
}

/* What an update function saw, and what it returns. */
typedef struct {
    MizuSignal *signal;     /* read back inside the function, when set */
    const char *result;     /* strdup'ed and returned; NULL returns NULL */
    char seen[128];         /* the current values it was given */
    char read_back[128];    /* what mizu_signal_get returned from inside it */
    int calls;
} Scripted;

static char *scripted(void *user_data, const char *current_json) {
    Scripted *s = user_data;
    s->calls++;
    snprintf(s->seen, sizeof s->seen, "%s", current_json);
    if (s->signal != NULL) {
        char *text = NULL;
        if (mizu_signal_get(s->signal, &text) == MIZU_OK) {
            snprintf(s->read_back, sizeof s->read_back, "%s", text);
        }
        mizu_string_free(text);
    }
    if (s->result == NULL) return NULL;
    char *copy = malloc(strlen(s->result) + 1);
    if (copy != NULL) strcpy(copy, s->result);
    return copy;
}

static void update_lends_the_current_value_and_may_call_back_in(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("{\"n\":1,\"a\":[true]}", &signal));
    Watch watch = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_signal_subscribe(signal, record_value, &watch, NULL, &subscription));
    Scripted s = {.signal = signal, .result = "{\"n\": 2}"};
    CHECK_OK(mizu_signal_update(signal, scripted, &s));
    CHECK(s.calls == 1);
    CHECK_STR(s.seen, "{\"a\":[true],\"n\":1}");
    CHECK_STR(s.read_back, "{\"a\":[true],\"n\":1}");
    char *text = NULL;
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_STR(text, "{\"n\":2}");
    CHECK_OK(mizu_string_free(text));
    /* An equal value notifies nobody. */
    CHECK_OK(mizu_signal_update(signal, scripted, &s));
    CHECK_STR(watch.seen, "{\"a\":[true],\"n\":1} {\"n\":2}");
    CHECK_STR(mizu_last_error_message(), "");
    CHECK_OK(mizu_subscription_free(subscription));
    CHECK_OK(mizu_signal_free(signal));
}

static void update_errors_leave_the_value_unchanged(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("7", &signal));
    Watch watch = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_signal_subscribe(signal, record_value, &watch, NULL, &subscription));

    /* The function abandons the update by returning NULL. */
    Scripted abandon = {.result = NULL};
    CHECK_STATUS(mizu_signal_update(signal, scripted, &abandon), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mizu_last_error_message(), "the update function returned NULL") != NULL);
    CHECK(abandon.calls == 1);
    CHECK_STR(abandon.seen, "7");

    /* No function at all. */
    CHECK_STATUS(mizu_signal_update(signal, NULL, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mizu_last_error_message(), "update_fn is NULL") != NULL);

    /* Text that is not JSON (taken over and freed all the same: valgrind sees no leak). */
    Scripted garbage = {.result = "{nope"};
    CHECK_STATUS(mizu_signal_update(signal, scripted, &garbage), MIZU_ERR_INVALID_JSON);
    CHECK(strstr(mizu_last_error_message(), "not JSON") != NULL);
    CHECK(garbage.calls == 1);

    /* Text that is not UTF-8. */
    Scripted bytes = {.result = "\"\xff\""};
    CHECK_STATUS(mizu_signal_update(signal, scripted, &bytes), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mizu_last_error_message(), "UTF-8") != NULL);

    char *text = NULL;
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_STR(text, "7");
    CHECK_OK(mizu_string_free(text));
    CHECK_STR(watch.seen, "7");
    CHECK_OK(mizu_subscription_free(subscription));

    /* A freed handle: the function is not called. */
    CHECK_OK(mizu_signal_free(signal));
    Scripted unused = {.result = "8"};
    CHECK_STATUS(mizu_signal_update(signal, scripted, &unused), MIZU_ERR_CLOSED);
    CHECK(unused.calls == 0);
    /* Nor for a handle of another kind. */
    MizuEffect *effect = NULL;
    Watch idle = {0};
    CHECK_OK(mizu_effect_new(record_nothing, &idle, NULL, &effect));
    CHECK_STATUS(mizu_signal_update((const MizuSignal *)effect, scripted, &unused),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(unused.calls == 0);
    CHECK_OK(mizu_effect_free(effect));
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"signal_holds_json_values_and_equal_writes_notify_nobody",
         signal_holds_json_values_and_equal_writes_notify_nobody},
        {"computed_runs_lazily_caches_and_follows_its_signals",
         computed_runs_lazily_caches_and_follows_its_signals},
        {"effect_reruns_once_per_batch_and_stops_when_freed",
         effect_reruns_once_per_batch_and_stops_when_freed},
        {"untracked_reads_do_not_wake_an_effect", untracked_reads_do_not_wake_an_effect},
        {"subscription_delivers_the_current_value_first_then_changes_until_freed",
         subscription_delivers_the_current_value_first_then_changes_until_freed},
        {"computed_reports_a_function_that_returns_null_or_not_json",
         computed_reports_a_function_that_returns_null_or_not_json},
        {"update_from_many_threads_counts_every_increment",
         update_from_many_threads_counts_every_increment},
        {"update_lends_the_current_value_and_may_call_back_in",
         update_lends_the_current_value_and_may_call_back_in},
        {"update_errors_leave_the_value_unchanged", update_errors_leave_the_value_unchanged},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
