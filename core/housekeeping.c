/* housekeeping.c -- a thread of `serve` that runs app.housekeeping() on a timer, with
 * its own Lua VM (rebuilt after a reload). The Lua side makes each step safe when
 * several processes run it at once. */
#include "housekeeping.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "vm.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stop_requested, started;

static void *housekeeping_loop(void *arg) {
    pthread_mutex_lock(&lock);
    while (!stop_requested) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += cfg.housekeeping_interval_seconds;
        while (!stop_requested && pthread_cond_timedwait(&wake, &lock, &until) == 0) {
        }
        if (stop_requested)
            break;
        pthread_mutex_unlock(&lock);
        vm *v = vm_for_thread();   /* this thread's VM, rebuilt after reloads */
        if (v)
            vm_call_app(v, "housekeeping");
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int housekeeping_start(void) {
    stop_requested = false;
    if (pthread_create(&thread, NULL, housekeeping_loop, NULL) != 0) {
        log_write(LOG_ERROR, "housekeeping", "cannot start the housekeeping thread", NULL);
        return -1;
    }
    started = true;
    return 0;
}

void housekeeping_stop(void) {
    if (!started)
        return;
    pthread_mutex_lock(&lock);
    stop_requested = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    started = false;
}
