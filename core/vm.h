/* vm.h -- the Lua VMs: sandboxed ones that serve requests (one per HTTP thread,
 * rebuilt after a reload) and the unsandboxed one of `itcloud run`. */
#ifndef ITCLOUD_VM_H
#define ITCLOUD_VM_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

typedef struct vm vm;

/* Builds a sandboxed VM and loads the app (lua/app.lua, which loads the routes and
 * config/policy.lua). Returns NULL with a message when anything fails to load. */
vm *vm_create_app(char *err, size_t errlen);

/* Builds the VM of `itcloud run`: all standard libraries, `core`, and package.path
 * reaching lua/ and spec/. */
lua_State *vm_create_runner(void);

void vm_destroy(vm *v);
lua_State *vm_lua(vm *v);

/* Builds the request table with build_request(arg) (a C function called in protected
 * mode with `arg` as a light userdata; it returns the table), then calls the app's
 * handle(req) under the per-request instruction budget. Returns 0 leaving status,
 * body, headers on the stack, or -1 after logging the error (stack restored). */
int vm_dispatch(vm *v, lua_CFunction build_request, void *arg);

/* Calls the app module's function `function` with no arguments, under the same
 * instruction budget as a request (periodic work). Returns the function's integer
 * result (0 when it returns none), or -1 when it raised (logged). */
int vm_call_app(vm *v, const char *function);

/* The VM for the calling HTTP thread, rebuilt when a reload has been published.
 * A rebuild that fails keeps the previous VM. NULL only if no VM ever loaded.
 * The VM is freed when the thread exits. */
vm *vm_for_thread(void);

/* Checks that the app loads in a fresh VM and, if so, publishes a new generation
 * so every thread rebuilds before its next request. Returns 0, or -1 (logged, old
 * code keeps serving). */
int vm_reload(void);

/* Starts a thread that watches lua/ and config/ with inotify and reloads on change. */
int vm_watch_sources(void);

#endif
