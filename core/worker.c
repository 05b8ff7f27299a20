/* worker.c -- job-running processes: `itcloud worker` polls the queue through the
 * app's Lua (app.work()), waking early when Redis says a job was queued
 * (app.wait_for_work()), while a heartbeat thread with its own VM keeps the running
 * job's lease (app.renew_lease()); `serve` keeps WORKER_PROCESSES of them alive, so a
 * decoder crash kills a worker, never the API. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "vm.h"

#define MAX_WORKERS 64
#define SLEEP_STEP_MS 1000L   /* without Redis: longest sleep between checks for a signal */
#define WAIT_WOKEN 2          /* app.wait_for_work(): woken; 1: waited; 0: cannot wait */
#define WAIT_WAITED 1

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig) { stop_requested = 1; }
static void on_hup(int sig) { reload_requested = 1; }

/* Caps the worker's address space, so a decoder bomb that gets past the pixel budget
 * kills this worker (its job is retried, then failed), never the machine. Skipped in
 * AddressSanitizer builds, which reserve terabytes of address space up front. */
static void limit_memory(void) {
#if !defined(__SANITIZE_ADDRESS__)
    struct rlimit limit = {.rlim_cur = (rlim_t)cfg.worker_memory_limit_bytes,
                           .rlim_max = (rlim_t)cfg.worker_memory_limit_bytes};
    if (setrlimit(RLIMIT_AS, &limit) != 0)
        log_fmt(LOG_WARN, "worker", "cannot limit memory: %s", strerror(errno));
#endif
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Idles until JOB_POLL_INTERVAL_MS has passed, a wake-up came, or a signal asks to stop
 * or reload. app.wait_for_work() waits on Redis a second at most per call; without
 * Redis (or with Redis down) this sleeps instead, so the queue is still polled. */
static void idle(vm *v) {
    long long until = now_ms() + cfg.job_poll_interval_ms;
    while (!stop_requested && !reload_requested) {
        long long left = until - now_ms();
        if (left <= 0)
            return;
        int waited = v ? vm_call_app(v, "wait_for_work") : 0;
        if (waited == WAIT_WOKEN)
            return;
        if (waited != WAIT_WAITED)
            usleep((useconds_t)(left < SLEEP_STEP_MS ? left : SLEEP_STEP_MS) * 1000);
    }
}

static pthread_mutex_t heartbeat_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heartbeat_wake;
static bool heartbeat_stopping;

/* Every third of JOB_LEASE_SECONDS, extends the lease of the job the main thread is
 * running (the runner names it in core.worker), so a job busy for longer than its
 * lease in a decoder, a child process or storage keeps it, while a worker that dies
 * (kill -9, a crash, the time limit) stops renewing and loses it within a lease. */
static void *heartbeat_loop(void *arg) {
    long interval_ms = cfg.job_lease_seconds * 1000 / 3;
    pthread_mutex_lock(&heartbeat_lock);
    while (!heartbeat_stopping) {
        struct timespec due;
        clock_gettime(CLOCK_MONOTONIC, &due);
        due.tv_sec += interval_ms / 1000;
        due.tv_nsec += (interval_ms % 1000) * 1000000L;
        if (due.tv_nsec >= 1000000000L) {
            due.tv_sec++;
            due.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!heartbeat_stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&heartbeat_wake, &heartbeat_lock, &due);
        if (heartbeat_stopping)
            break;
        pthread_mutex_unlock(&heartbeat_lock);
        vm *v = vm_for_thread();   /* rebuilt after a reload, like the main thread's */
        if (v)
            vm_call_app(v, "renew_lease");
        pthread_mutex_lock(&heartbeat_lock);
    }
    pthread_mutex_unlock(&heartbeat_lock);
    return NULL;   /* the thread's VM is freed as the thread exits */
}

/* Starts the heartbeat with every signal blocked in it, so SIGTERM and SIGHUP reach
 * the main thread's handlers and interrupt its sleeps. Returns 0, or -1 (logged). */
static int heartbeat_start(pthread_t *thread) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&heartbeat_wake, &attr);
    pthread_condattr_destroy(&attr);
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    int rc = pthread_create(thread, NULL, heartbeat_loop, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rc != 0) {
        log_fmt(LOG_ERROR, "worker", "cannot start the lease heartbeat: %s", strerror(rc));
        return -1;
    }
    return 0;
}

/* Ends the heartbeat (after a renewal in progress) and waits for its thread. */
static void heartbeat_stop(pthread_t thread) {
    pthread_mutex_lock(&heartbeat_lock);
    heartbeat_stopping = true;
    pthread_cond_signal(&heartbeat_wake);
    pthread_mutex_unlock(&heartbeat_lock);
    pthread_join(thread, NULL);
}

int worker_run(void) {
    struct sigaction stop = {.sa_handler = on_stop}, hup = {.sa_handler = on_hup};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGHUP, &hup, NULL);
    signal(SIGPIPE, SIG_IGN);
    limit_memory();
    pthread_t heartbeat;
    if (heartbeat_start(&heartbeat) != 0)
        return 1;
    log_write(LOG_INFO, "worker", "started", NULL);
    while (!stop_requested) {
        if (reload_requested) {
            reload_requested = 0;
            vm_reload();
        }
        vm *v = vm_for_thread();
        /* one job per call, under a wall-clock limit: a job that hangs (a decoder loop,
         * a stuck child process) ends this worker by SIGALRM; serve starts another and
         * the job's lease runs out, so it is retried and in the end failed */
        alarm((unsigned)cfg.job_timeout_seconds);
        int ran = v ? vm_call_app(v, "work") : 0;
        alarm(0);
        if (ran <= 0)
            idle(v);
    }
    heartbeat_stop(heartbeat);
    log_write(LOG_INFO, "worker", "stopped", NULL);
    return 0;
}

typedef struct {
    pid_t pid;
    struct timespec started;
} worker_slot;

static worker_slot slots[MAX_WORKERS];
static int slot_count;
static char self_path[4096];

static pid_t spawn(void) {
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);   /* serve blocks signals for sigwait */
        execl(self_path, "itcloud", "worker", (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        log_fmt(LOG_ERROR, "worker", "cannot start a worker: %s", strerror(errno));
    return pid;
}

int workers_start(int count) {
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
    if (n <= 0)
        return -1;
    self_path[n] = '\0';
    slot_count = count > MAX_WORKERS ? MAX_WORKERS : count;
    for (int i = 0; i < slot_count; i++) {
        slots[i].pid = spawn();
        clock_gettime(CLOCK_MONOTONIC, &slots[i].started);
    }
    return 0;
}

void workers_restart_exited(void) {
    int status;
    /* only our workers are reaped: any other child belongs to whoever started it */
    for (int i = 0; i < slot_count; i++) {
        pid_t pid = slots[i].pid;
        if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid)
            continue;
        char fields[96];
        snprintf(fields, sizeof(fields), "pid=%d status=%d signal=%d", (int)pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        log_write(LOG_WARN, "worker", "worker exited, starting another", fields);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - slots[i].started.tv_sec < 1)
            sleep(1);   /* a worker dying at once: don't spin */
        slots[i].pid = spawn();
        clock_gettime(CLOCK_MONOTONIC, &slots[i].started);
    }
}

void workers_reload(void) {
    for (int i = 0; i < slot_count; i++)
        if (slots[i].pid > 0)
            kill(slots[i].pid, SIGHUP);
}

void workers_stop(long grace_ms) {
    for (int i = 0; i < slot_count; i++)
        if (slots[i].pid > 0)
            kill(slots[i].pid, SIGTERM);
    for (long waited = 0; waited <= grace_ms; waited += 20) {
        int alive = 0;
        for (int i = 0; i < slot_count; i++) {
            if (slots[i].pid > 0 && waitpid(slots[i].pid, NULL, WNOHANG) == 0)
                alive++;
            else
                slots[i].pid = 0;
        }
        if (!alive)
            return;
        usleep(20 * 1000);
    }
    for (int i = 0; i < slot_count; i++)
        if (slots[i].pid > 0) {
            kill(slots[i].pid, SIGKILL);
            waitpid(slots[i].pid, NULL, 0);
        }
}
