// A stand-in for an ONNX Runtime older than the binding needs: it names
// itself 1.20.0 and, like a real old library, has no API version 29.
#include <stddef.h>

typedef struct {
  const void *(*GetApi)(unsigned int version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

static const void *get_api(unsigned int version) { (void)version; return NULL; }
static const char *version_string(void) { return "1.20.0"; }
static const OrtApiBase base = {get_api, version_string};

const OrtApiBase *OrtGetApiBase(void) { return &base; }
