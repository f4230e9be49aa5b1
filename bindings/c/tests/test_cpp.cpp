/*
 * The header from C++: mizu_sync.h compiles next to <cstdlib> (whose `free` it must not
 * redeclare), and a C++ program owns the library's handles and strings with RAII, hands it
 * malloc'd text from C++ callbacks, and syncs through the shared reference server.
 */
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "support.h"

namespace {

/* The owners of the library's pointers: each frees with the function the header names. */
struct StringFree {
    void operator()(char *text) const { CHECK_OK(mizu_string_free(text)); }
};
struct SignalFree {
    void operator()(MizuSignal *signal) const { CHECK_OK(mizu_signal_free(signal)); }
};
struct ComputedFree {
    void operator()(MizuComputed *computed) const { CHECK_OK(mizu_computed_free(computed)); }
};
struct ClientFree {
    void operator()(MizuClient *client) const { CHECK_OK(mizu_client_free(client)); }
};
struct CollectionFree {
    void operator()(MizuCollection *collection) const {
        CHECK_OK(mizu_collection_free(collection));
    }
};
using String = std::unique_ptr<char, StringFree>;
using Signal = std::unique_ptr<MizuSignal, SignalFree>;
using Computed = std::unique_ptr<MizuComputed, ComputedFree>;
using Client = std::unique_ptr<MizuClient, ClientFree>;
using Collection = std::unique_ptr<MizuCollection, CollectionFree>;

/* Text handed to the library, which releases it with free(): it must come from malloc. */
char *malloc_copy(const std::string &text) {
    char *copy = static_cast<char *>(std::malloc(text.size() + 1));
    std::memcpy(copy, text.c_str(), text.size() + 1);
    return copy;
}

std::string signal_text(const Signal &signal) {
    char *out = nullptr;
    CHECK_OK(mizu_signal_get(signal.get(), &out));
    String owned(out);
    return owned ? std::string(owned.get()) : std::string();
}

void raii_owners_free_signals_and_strings_returned_to_cpp() {
    MizuSignal *raw = nullptr;
    CHECK_OK(mizu_signal_new("{\"name\":\"kumo\"}", &raw));
    Signal signal(raw);
    CHECK(signal_text(signal) == "{\"name\":\"kumo\"}");
    CHECK_OK(mizu_signal_set(signal.get(), "[1,2]"));
    CHECK(signal_text(signal) == "[1,2]");
}

/* A counter's update: reads the current integer and returns the next one, malloc'd. */
char *increment(void *user_data, const char *current_json) {
    ++*static_cast<int *>(user_data);
    return malloc_copy(std::to_string(std::strtol(current_json, nullptr, 10) + 1));
}

struct Doubled {
    MizuSignal *source;
    int runs;
};

char *compute_doubled(void *user_data) {
    auto *state = static_cast<Doubled *>(user_data);
    state->runs++;
    char *out = nullptr;
    if (mizu_signal_get(state->source, &out) != MIZU_OK) return nullptr;
    String value(out);
    return malloc_copy(std::to_string(2 * std::strtol(value.get(), nullptr, 10)));
}

void cpp_callbacks_hand_malloced_text_that_the_library_frees() {
    MizuSignal *raw = nullptr;
    CHECK_OK(mizu_signal_new("41", &raw));
    Signal counter(raw);
    int calls = 0;
    CHECK_OK(mizu_signal_update(counter.get(), increment, &calls));
    CHECK(calls == 1);
    CHECK(signal_text(counter) == "42");

    Doubled state{counter.get(), 0};
    MizuComputed *computed_raw = nullptr;
    CHECK_OK(mizu_computed_new(compute_doubled, &state, nullptr, &computed_raw));
    Computed doubled(computed_raw);
    char *out = nullptr;
    CHECK_OK(mizu_computed_get(doubled.get(), &out));
    CHECK_STR(String(out).get(), "84");
    CHECK_OK(mizu_signal_set(counter.get(), "5"));
    CHECK_OK(mizu_computed_get(doubled.get(), &out));
    CHECK_STR(String(out).get(), "10");
    CHECK(state.runs == 2);
}

void client_from_cpp_pushes_a_record_that_a_second_client_pulls() {
    const std::string scope = test_scope("cpp-sync");
    auto open = [&scope]() {
        std::unique_ptr<char, decltype(&std::free)> options(test_options(scope.c_str()),
                                                            &std::free);
        MizuClient *raw = nullptr;
        CHECK_OK(mizu_client_new(options.get(), nullptr, &raw));
        return Client(raw);
    };
    Client writer = open();
    Client reader = open();
    if (!writer || !reader) return;
    CHECK_OK(mizu_client_start(writer.get()));
    CHECK_OK(mizu_client_start(reader.get()));

    MizuCollection *raw = nullptr;
    CHECK_OK(mizu_client_collection(writer.get(), "note", &raw));
    Collection notes(raw);
    CHECK_OK(mizu_collection_create(notes.get(), "n1", "{\"text\":\"from C++\"}", nullptr));
    CHECK_OK(mizu_client_flush(writer.get(), 10000));

    CHECK_OK(mizu_client_sync(reader.get()));
    CHECK_OK(mizu_client_collection(reader.get(), "note", &raw));
    Collection pulled(raw);
    char *out = nullptr;
    CHECK_OK(mizu_collection_get(pulled.get(), "n1", &out));
    CHECK_STR(String(out).get(), "{\"text\":\"from C++\"}");
}

}  // namespace

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"raii_owners_free_signals_and_strings_returned_to_cpp",
         raii_owners_free_signals_and_strings_returned_to_cpp},
        {"cpp_callbacks_hand_malloced_text_that_the_library_frees",
         cpp_callbacks_hand_malloced_text_that_the_library_frees},
        {"client_from_cpp_pushes_a_record_that_a_second_client_pulls",
         client_from_cpp_pushes_a_record_that_a_second_client_pulls},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
