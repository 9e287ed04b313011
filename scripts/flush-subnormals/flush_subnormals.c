/*
 * LD_PRELOAD shim: the threads that Mesa's CPU drivers (lavapipe, llvmpipe) create run with
 * subnormal float32 flushed to zero (x86 MXCSR FTZ | DAZ), as GPUs do and WGSL allows. Every
 * other thread, Node's JavaScript and worker threads included, keeps IEEE subnormals.
 *
 * Why: llvmpipe's compute threads keep IEEE subnormals, and an x86 core takes a microcode assist
 * on each one (about 10x per operation here). A network whose recurrent weights shrink under an
 * L1 cost (W, WD) back-propagates gradients that decay through the subnormal range at every
 * trial, and its epochs then ran 2-3.5x slower than at the start (issue 11's grid).
 *
 * How: pthread_create is wrapped; a thread whose creator's code lies in a Mesa driver library
 * (matched on its file name) sets the two MXCSR bits before it runs its start routine.
 * scripts/flush-subnormals.sh builds this file and runs a command under it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#define MXCSR_FTZ 0x8000u
#define MXCSR_DAZ 0x0040u

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

struct start {
  void *(*routine)(void *);
  void *arg;
};

static void *start_flushing(void *p) {
  struct start s = *(struct start *)p;
  free(p);
  _mm_setcsr(_mm_getcsr() | MXCSR_FTZ | MXCSR_DAZ);
  return s.routine(s.arg);
}

/* Mesa's Vulkan CPU driver, or the gallium library its OpenGL driver loads. */
static int is_cpu_driver(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return strncmp(base, "libvulkan_lvp", 13) == 0 || strncmp(base, "libgallium", 10) == 0;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*routine)(void *), void *arg) {
  static pthread_create_fn real;
  if (!real) real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
  Dl_info info;
  if (dladdr(__builtin_return_address(0), &info) && info.dli_fname && is_cpu_driver(info.dli_fname)) {
    struct start *s = malloc(sizeof *s);
    if (s) {
      s->routine = routine;
      s->arg = arg;
      int rc = real(thread, attr, start_flushing, s);
      if (rc != 0) free(s);
      return rc;
    }
  }
  return real(thread, attr, routine, arg);
}
