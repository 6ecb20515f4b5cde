// Runs after the consumer's build, which already failed if the application exited non-zero: the
// application must also have reported success, having loaded tcpscope from the packaged jar, and
// the JDK must not have warned about restricted methods (native access was enabled).
def log = new File(basedir, 'build.log').text
assert log =~ /consumer-modulepath OK: 262144 bytes, then FIN, through module dev\.tcpscope from file:\S+\/tcpscope-[^\s\/]+\.jar/
assert !log.contains('WARNING: A restricted method')
return true
