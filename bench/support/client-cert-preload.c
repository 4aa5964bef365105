/*
 * LD_PRELOAD library that makes a load generator without a client-certificate
 * option (wrk, h2load) speak mutual TLS: every SSL_CTX it creates gets the
 * certificate and key named by MW_CLIENT_CERT / MW_CLIENT_KEY. With
 * MW_NO_RESUME=1 no TLS session is ever offered again, so each new connection
 * is a full handshake (our servers send no tickets anyway; nginx is set the same).
 * Built by bench/support/load-tools.ts: gcc -O2 -shared -fPIC ... -ldl -lssl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

static void give_client_cert(SSL_CTX *ctx) {
  const char *cert = getenv("MW_CLIENT_CERT");
  const char *key = getenv("MW_CLIENT_KEY");
  if (ctx == NULL || cert == NULL || key == NULL) return;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "client-cert-preload: cannot load %s / %s\n", cert, key);
    exit(70);
  }
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
  static SSL_CTX *(*real)(const SSL_METHOD *) = NULL;
  if (real == NULL) real = (SSL_CTX * (*)(const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new");
  SSL_CTX *ctx = real(method);
  give_client_cert(ctx);
  return ctx;
}

SSL_CTX *SSL_CTX_new_ex(OSSL_LIB_CTX *libctx, const char *propq, const SSL_METHOD *method) {
  static SSL_CTX *(*real)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *) = NULL;
  if (real == NULL) real = (SSL_CTX * (*)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new_ex");
  SSL_CTX *ctx = real(libctx, propq, method);
  give_client_cert(ctx);
  return ctx;
}

int SSL_set_session(SSL *ssl, SSL_SESSION *session) {
  static int (*real)(SSL *, SSL_SESSION *) = NULL;
  if (getenv("MW_NO_RESUME") != NULL) return 1;
  if (real == NULL) real = (int (*)(SSL *, SSL_SESSION *))dlsym(RTLD_NEXT, "SSL_set_session");
  return real(ssl, session);
}
