/** An application module that uses tcpscope from the module path. */
module consumer.modulepath {
    requires dev.tcpscope;
}
