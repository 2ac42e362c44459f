// shimeji's RP2040 board: attribute loads and stores of native and viper code take the
// instance fast path that MicroPython's bytecode VM gives LOAD_ATTR (py/vm.c,
// MICROPY_OPT_LOAD_ATTR_FAST_PATH). Linked with --wrap (micropython.cmake): every call of
// mp_load_attr or mp_store_attr from another file (mp_fun_table, which native and viper code
// call through; the VM's slow paths; C modules) comes here first.
//
// Why (docs/boards.md, "RP2040, session 26"): a load from native code went mp_load_attr ->
// mp_load_method -> mp_load_method_maybe -> mp_obj_instance_attr -> mp_map_lookup, ~200
// cycles on the Cortex-M0+ against ~80 for the VM's fast path, and shimeji's spawn and join
// paths are native and viper code: ~39 % of a spawn-then-await's cycles were attribute
// operations.
//
// Same results as without it: a load looks in the instance's own members first, as
// mp_obj_instance_load_attr does before anything else (and as the VM's fast path does); a
// store to an instance of a class without properties, descriptors or __setattr__
// (MP_TYPE_FLAG_HAS_SPECIAL_ACCESSORS clear) goes into its members, as
// mp_obj_instance_store_attr does for such a class. Anything else, and a delete (a store of
// MP_OBJ_NULL), goes to MicroPython's own function unchanged.
#include "py/runtime.h"
#include "py/objtype.h"

mp_obj_t __real_mp_load_attr(mp_obj_t base, qstr attr);
void __real_mp_store_attr(mp_obj_t base, qstr attr, mp_obj_t value);

mp_obj_t __wrap_mp_load_attr(mp_obj_t base, qstr attr) {
    if (mp_obj_is_obj(base)) {
        const mp_obj_type_t *type = ((mp_obj_base_t *)MP_OBJ_TO_PTR(base))->type;
        if (mp_obj_is_instance_type(type)) {
            mp_obj_instance_t *self = MP_OBJ_TO_PTR(base);
            mp_map_elem_t *elem = mp_map_lookup(&self->members, MP_OBJ_NEW_QSTR(attr),
                MP_MAP_LOOKUP);
            if (elem != NULL) {
                return elem->value;
            }
        }
    }
    return __real_mp_load_attr(base, attr);
}

void __wrap_mp_store_attr(mp_obj_t base, qstr attr, mp_obj_t value) {
    if (value != MP_OBJ_NULL && mp_obj_is_obj(base)) {
        const mp_obj_type_t *type = ((mp_obj_base_t *)MP_OBJ_TO_PTR(base))->type;
        if (mp_obj_is_instance_type(type) && !(type->flags & MP_TYPE_FLAG_HAS_SPECIAL_ACCESSORS)) {
            mp_obj_instance_t *self = MP_OBJ_TO_PTR(base);
            mp_map_lookup(&self->members, MP_OBJ_NEW_QSTR(attr),
                MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = value;
            return;
        }
    }
    __real_mp_store_attr(base, attr, value);
}
