// Direct calls: the C-ABI fast path that libmizu_sync exports beside the UniFFI scaffolding
// (src/ffi/hot in the Rust crate; its module docs are the contract). Hand-written, not
// generated: keep it in step with src/ffi/hot. The Swift wrapper (Sources/MizuSync) calls
// these for its hottest operations; apps never do.
#ifndef MIZU_HOT_H
#define MIZU_HOT_H

#include <stdint.h>

// The calling thread's payload of the last value a direct call read (mizu_hot_slot()).
typedef struct MizuHotSlot {
    int64_t int_value;     // a MIZU_HOT_INT
    double float_value;    // a MIZU_HOT_FLOAT
    const uint8_t *ptr;    // a MIZU_HOT_STRING's or MIZU_HOT_JSON's UTF-8 bytes, valid until
    uint64_t len;          // the next direct call on this thread
    uint64_t version;      // the version of the signal or computed value just read
} MizuHotSlot;

// What a read returned (negative: failed; the error waits in take_hot_error()).
enum {
    MIZU_HOT_NULL = 0,
    MIZU_HOT_FALSE = 1,
    MIZU_HOT_TRUE = 2,
    MIZU_HOT_INT = 3,
    MIZU_HOT_FLOAT = 4,
    MIZU_HOT_STRING = 5,
    MIZU_HOT_JSON = 6,
    MIZU_HOT_UNCHANGED = 7,
    MIZU_HOT_ABSENT = 8,
};

// A listener: the token, then the value as a tag and its payload (ptr / len valid for this
// call only). Returns 0, or non-zero after mizu_hot_callback_error.
typedef int32_t (*MizuHotValueFn)(uint64_t token, int32_t tag, int64_t int_value,
                                  double float_value, const uint8_t *ptr, uint64_t len);
// An effect: the token. Returns 0, or non-zero after mizu_hot_callback_error.
typedef int32_t (*MizuHotEffectFn)(uint64_t token);

MizuHotSlot *mizu_hot_slot(void);
int32_t mizu_hot_noop(void);
void mizu_hot_callback_error(const uint8_t *ptr, uint64_t len);

void mizu_hot_signal_release(uint64_t signal);
int32_t mizu_hot_signal_get(uint64_t signal, int32_t tracked, uint64_t known_version);
int64_t mizu_hot_signal_set_null(uint64_t signal);
int64_t mizu_hot_signal_set_bool(uint64_t signal, int32_t value);
int64_t mizu_hot_signal_set_int(uint64_t signal, int64_t value);
int64_t mizu_hot_signal_set_float(uint64_t signal, double value);
int64_t mizu_hot_signal_set_string(uint64_t signal, const uint8_t *ptr, uint64_t len);
int64_t mizu_hot_signal_set_json(uint64_t signal, const uint8_t *ptr, uint64_t len);
uint64_t mizu_hot_signal_subscribe(uint64_t signal, MizuHotValueFn listener, uint64_t token);
void mizu_hot_subscription_cancel(uint64_t subscription);
int32_t mizu_hot_subscription_is_cancelled(uint64_t subscription);
void mizu_hot_subscription_release(uint64_t subscription);

void mizu_hot_computed_release(uint64_t computed);
int32_t mizu_hot_computed_get(uint64_t computed, int32_t tracked, uint64_t known_version);

uint64_t mizu_hot_effect_new(MizuHotEffectFn run, uint64_t token);
void mizu_hot_effect_stop(uint64_t effect);
void mizu_hot_effect_release(uint64_t effect);

void mizu_hot_collection_release(uint64_t collection);
int32_t mizu_hot_collection_get(uint64_t collection, const uint8_t *id, uint64_t id_len,
                                int32_t tracked);
int32_t mizu_hot_collection_write(uint64_t collection, const uint8_t *id, uint64_t id_len,
                                  const uint8_t *value_json, uint64_t value_len, int32_t create);

#endif
