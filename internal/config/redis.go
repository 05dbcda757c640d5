package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Redis says how to reach Redis: one server, or through Sentinels that
// name the current master of MasterName. Every Redis client of a process
// (go-redis, Asynq, the rate limiter) is built from it, so all of them
// follow a failover the same way.
type Redis struct {
	// Addrs is the server, or with MasterName the Sentinels.
	Addrs []string
	// MasterName is PAYLINK_REDIS_SENTINEL_MASTER; empty without Sentinel.
	MasterName string
	Username   string
	Password   string
	DB         int
	TLS        bool
}

// Timeouts of every Redis client: short, so that a request meeting a
// Redis failover fails (or falls back) within a couple of seconds instead
// of hanging, and the client asks the Sentinels again on its next dial.
const (
	redisDialTimeout = 2 * time.Second
	redisIOTimeout   = 2 * time.Second
)

// ParseRedis reads REDIS_URL, redis://[user:password@]host:port[/db] (or
// rediss:// for TLS). With a master name, the URL names one or more
// Sentinels instead, comma-separated: redis://s1:26379,s2:26379,s3:26379/0;
// its user and password are then the Redis servers', and the Sentinels
// are reached without authentication.
func ParseRedis(rawURL, masterName string) (Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Redis{}, errors.New("not a URL like redis://host:6379/0")
	}
	r := Redis{MasterName: masterName, TLS: u.Scheme == "rediss"}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return Redis{}, fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	}
	if u.RawQuery != "" {
		return Redis{}, errors.New("query parameters are not supported")
	}
	if u.User != nil {
		r.Username = u.User.Username()
		r.Password, _ = u.User.Password()
		if r.Password == "" {
			// redis://:secret@host and redis://secret@host both mean a
			// password alone, as go-redis reads them.
			r.Password, r.Username = r.Username, ""
		}
	}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "6379")
		}
		r.Addrs = append(r.Addrs, h)
	}
	switch {
	case len(r.Addrs) == 0:
		return Redis{}, errors.New("names no host")
	case len(r.Addrs) > 1 && masterName == "":
		return Redis{}, errors.New("names several hosts, which only Sentinels can be: set PAYLINK_REDIS_SENTINEL_MASTER too")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if r.DB, err = strconv.Atoi(p); err != nil || r.DB < 0 {
			return Redis{}, fmt.Errorf("database %q is not a number", p)
		}
	}
	return r, nil
}

func (r Redis) tlsConfig() *tls.Config {
	if !r.TLS {
		return nil
	}
	host, _, _ := net.SplitHostPort(r.Addrs[0])
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

// NewClient returns a go-redis client: through the Sentinels when a
// master name is set (it asks them for the master at every new
// connection, and drops its connections when they announce a new one),
// else to the one server.
func (r Redis) NewClient() *redis.Client {
	if r.MasterName != "" {
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: r.MasterName, SentinelAddrs: r.Addrs,
			Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: r.tlsConfig(),
			DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout,
		})
	}
	return redis.NewClient(&redis.Options{
		Addr: r.Addrs[0], Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: r.tlsConfig(),
		DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout,
	})
}

// Asynq returns the same connection for Asynq: its failover client
// option with Sentinels, else its plain client option.
func (r Redis) Asynq() asynq.RedisConnOpt {
	if r.MasterName != "" {
		return asynq.RedisFailoverClientOpt{
			MasterName: r.MasterName, SentinelAddrs: r.Addrs,
			Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: r.tlsConfig(),
			DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout,
		}
	}
	return asynq.RedisClientOpt{
		Addr: r.Addrs[0], Username: r.Username, Password: r.Password, DB: r.DB, TLSConfig: r.tlsConfig(),
		DialTimeout: redisDialTimeout, ReadTimeout: redisIOTimeout, WriteTimeout: redisIOTimeout,
	}
}

// LoadRedis reads REDIS_URL and PAYLINK_REDIS_SENTINEL_MASTER alone, for
// commands that need nothing else.
func LoadRedis(getenv func(string) string) (Redis, error) {
	p := parser{getenv: getenv}
	r := p.redis()
	if len(p.errs) > 0 {
		return Redis{}, errors.Join(p.errs...)
	}
	return r, nil
}

func (p *parser) redis() Redis {
	raw := p.required("REDIS_URL")
	if raw == "" {
		return Redis{}
	}
	r, err := ParseRedis(raw, p.str("PAYLINK_REDIS_SENTINEL_MASTER"))
	if err != nil {
		p.fail("REDIS_URL", err.Error())
	}
	return r
}
