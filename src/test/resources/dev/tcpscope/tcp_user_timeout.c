/*
 * For UserTimeoutEndingTest: prints TCP_USER_TIMEOUT (RFC 5482; Linux 2.6.37) as this machine's
 * headers define it. The generated bindings do not have it, and the test does not hard-code it.
 */
#include <netinet/tcp.h>
#include <stdio.h>

int main(void) {
    printf("%d\n", TCP_USER_TIMEOUT);
    return 0;
}
