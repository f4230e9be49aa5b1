/* Signals, computeds, effects, batches and subscriptions of JSON values, driven from C. */
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
    mizu_untrack(read_b_untracked, &u->watch);
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
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
