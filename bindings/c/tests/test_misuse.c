/* Misuse of the API returns error codes, never undefined behaviour: NULL pointers, bad JSON,
 * unknown options, freed handles, double frees, handles of the wrong kind, use after close. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static bool contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void null_pointers_are_invalid_arguments(void) {
    MizuClient *client = (MizuClient *)1;
    CHECK_STATUS(mizu_client_new(NULL, NULL, &client), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(client == NULL);
    CHECK(contains(mizu_last_error_message(), "options_json is NULL"));
    CHECK_STATUS(mizu_client_new("{\"base_url\":\"http://h\"}", NULL, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_client_start(NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "NULL"));
    CHECK_STATUS(mizu_signal_new(NULL, NULL), MIZU_ERR_INVALID_ARGUMENT);
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("1", &signal));
    CHECK_STATUS(mizu_signal_get(signal, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_signal_set(signal, NULL), MIZU_ERR_INVALID_ARGUMENT);
    MizuEffect *effect = NULL;
    CHECK_STATUS(mizu_effect_new(NULL, NULL, NULL, &effect), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_batch(NULL, NULL), MIZU_ERR_INVALID_ARGUMENT);
    MizuSubscription *subscription = NULL;
    CHECK_STATUS(mizu_signal_subscribe(signal, NULL, NULL, NULL, &subscription), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(subscription == NULL);
    /* Freeing NULL is allowed, as with free(). */
    CHECK_OK(mizu_client_free(NULL));
    CHECK_OK(mizu_string_free(NULL));
    CHECK_OK(mizu_signal_free(signal));
}

static void bad_json_and_unknown_options_are_refused_with_a_message(void) {
    MizuClient *client = NULL;
    CHECK_STATUS(mizu_client_new("{\"base_url\":", NULL, &client), MIZU_ERR_INVALID_JSON);
    CHECK_STATUS(mizu_client_new("{\"base_url\":\"http://h\",\"colour\":1}", NULL, &client),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "colour"));
    CHECK_STATUS(mizu_client_new("{\"base_url\":\"http://h\",\"pull_interval_ms\":\"soon\"}", NULL, &client),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_client_new("{\"scope\":\"s\"}", NULL, &client), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "base_url"));
    CHECK(client == NULL);

    MizuSignal *signal = NULL;
    CHECK_STATUS(mizu_signal_new("{oops}", &signal), MIZU_ERR_INVALID_JSON);
    CHECK_OK(mizu_signal_new("[]", &signal));
    CHECK_STATUS(mizu_signal_set(signal, "[1,"), MIZU_ERR_INVALID_JSON);
    CHECK_STATUS(mizu_signal_set(signal, "\xff\xfe"), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "UTF-8"));
    /* A success clears the message. */
    CHECK_OK(mizu_signal_set(signal, "[1]"));
    CHECK_STR(mizu_last_error_message(), "");
    CHECK_OK(mizu_signal_free(signal));
}

static int released = 0;
static void count_release(void *user_data) {
    (void)user_data;
    released++;
}

static void failed_registrations_still_release_their_user_data(void) {
    released = 0;
    MizuClientCallbacks callbacks = {.release = count_release};
    MizuClient *client = NULL;
    CHECK_STATUS(mizu_client_new("not json", &callbacks, &client), MIZU_ERR_INVALID_JSON);
    CHECK(released == 1);
    MizuEffect *effect = NULL;
    CHECK_STATUS(mizu_effect_new(NULL, NULL, count_release, &effect), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(released == 2);
    MizuSubscription *subscription = NULL;
    CHECK_STATUS(mizu_signal_subscribe(NULL, NULL, NULL, count_release, &subscription),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(released == 3);
}

static void freed_handles_report_closed_and_double_frees_are_caught(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("1", &signal));
    CHECK_OK(mizu_signal_free(signal));
    char *text = NULL;
    CHECK_STATUS(mizu_signal_get(signal, &text), MIZU_ERR_CLOSED);
    CHECK(contains(mizu_last_error_message(), "already freed"));
    CHECK_STATUS(mizu_signal_free(signal), MIZU_ERR_CLOSED);

    char *options = test_options(test_scope("freed"));
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    CHECK_OK(mizu_client_free(client));
    CHECK_STATUS(mizu_client_start(client), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_client_free(client), MIZU_ERR_CLOSED);

    CHECK_OK(mizu_signal_new("\"s\"", &signal));
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_OK(mizu_string_free(text));
    CHECK_STATUS(mizu_string_free(text), MIZU_ERR_INVALID_ARGUMENT);
    char *not_ours = strdup("mine");
    CHECK_STATUS(mizu_string_free(not_ours), MIZU_ERR_INVALID_ARGUMENT);
    free(not_ours);
    CHECK_OK(mizu_signal_free(signal));
}

static void handles_of_the_wrong_kind_or_made_up_are_invalid_arguments(void) {
    MizuSignal *signal = NULL;
    CHECK_OK(mizu_signal_new("1", &signal));
    CHECK_STATUS(mizu_client_start((MizuClient *)signal), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "signal"));
    CHECK_STATUS(mizu_effect_free((MizuEffect *)signal), MIZU_ERR_INVALID_ARGUMENT);
    int local = 0;
    CHECK_STATUS(mizu_signal_set((MizuSignal *)&local, "2"), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_signal_free((MizuSignal *)&local), MIZU_ERR_INVALID_ARGUMENT);
    /* The signal survived the misuse. */
    char *text = NULL;
    CHECK_OK(mizu_signal_get(signal, &text));
    CHECK_STR(text, "1");
    CHECK_OK(mizu_string_free(text));
    CHECK_OK(mizu_signal_free(signal));
}

static void a_closed_client_refuses_work_but_its_handles_still_free(void) {
    char *options = test_options(test_scope("closed"));
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    MizuEntity *entity = NULL;
    CHECK_OK(mizu_collection_create(todos, "t", "1", &entity));
    CHECK_OK(mizu_client_close(client));
    CHECK_OK(mizu_client_close(client));
    CHECK_STATUS(mizu_client_start(client), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_collection_set(todos, "t", "2"), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_entity_set(entity, "3"), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_client_mutate(client, "x.y", NULL, NULL), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_client_sync(client), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_entity_free(entity));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));

    /* Collections outlive their client handle, and then report closed. */
    options = test_options(test_scope("closed-2"));
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_client_free(client));
    CHECK_STATUS(mizu_collection_create(todos, "t", "1", NULL), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_collection_free(todos));
}

static void sync_before_start_and_bad_arguments_report_their_codes(void) {
    char *options = test_options(test_scope("not-started"));
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    CHECK_STATUS(mizu_client_sync(client), MIZU_ERR_NOT_STARTED);
    CHECK_STATUS(mizu_client_flush(client, 10), MIZU_ERR_NOT_STARTED);
    MizuCollection *todos = NULL;
    CHECK_STATUS(mizu_client_collection(client, "", &todos), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_STATUS(mizu_collection_create(todos, "", "1", NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_collection_create(todos, "t", "{", NULL), MIZU_ERR_INVALID_JSON);
    CHECK_STATUS(mizu_client_mutate(client, "", NULL, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_client_mutate(client, "x.y", "[", NULL), MIZU_ERR_INVALID_JSON);
    CHECK_STR(mizu_status_name(MIZU_ERR_NOT_FOUND), "MIZU_ERR_NOT_FOUND");
    CHECK_STR(mizu_status_name(1000), "MIZU_ERR_UNKNOWN");
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

static void two_clients_cannot_hold_one_storage_file(void) {
    char path[512];
    temp_db_path(path, sizeof path, "locked");
    char *options = test_options_for(test_base_url(), test_scope("locked"), path);
    MizuClient *first = NULL, *second = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &first));
    CHECK_STATUS(mizu_client_new(options, NULL, &second), MIZU_ERR_STORAGE);
    CHECK(second == NULL);
    CHECK_OK(mizu_client_free(first));
    free(options);
    remove_db(path);
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"null_pointers_are_invalid_arguments", null_pointers_are_invalid_arguments},
        {"bad_json_and_unknown_options_are_refused_with_a_message",
         bad_json_and_unknown_options_are_refused_with_a_message},
        {"failed_registrations_still_release_their_user_data",
         failed_registrations_still_release_their_user_data},
        {"freed_handles_report_closed_and_double_frees_are_caught",
         freed_handles_report_closed_and_double_frees_are_caught},
        {"handles_of_the_wrong_kind_or_made_up_are_invalid_arguments",
         handles_of_the_wrong_kind_or_made_up_are_invalid_arguments},
        {"a_closed_client_refuses_work_but_its_handles_still_free",
         a_closed_client_refuses_work_but_its_handles_still_free},
        {"sync_before_start_and_bad_arguments_report_their_codes",
         sync_before_start_and_bad_arguments_report_their_codes},
        {"two_clients_cannot_hold_one_storage_file", two_clients_cannot_hold_one_storage_file},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
