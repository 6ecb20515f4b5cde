// Runs after the consumer's build, which already failed if the application exited non-zero: the
// application must also have reported success, having loaded tcpscope from the packaged jar, and
// the JDK must not have warned about restricted methods (native access was enabled).
def log = new File(basedir, 'build.log').text
assert log =~ /consumer-classpath OK: 262144 bytes then FIN twice \(finish\(\), TcpScope\.call\), RST after a failing body, from file:\S+\/tcpscope-[^\s\/]+\.jar/
assert !log.contains('WARNING: A restricted method')
return true
