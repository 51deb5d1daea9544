package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// redisTarget is where the job queue lives: one Redis (redis://, rediss://) or the master a
// set of Sentinels watches (redis-sentinel://, or REDIS_SENTINELS and REDIS_MASTER). With
// Sentinel every Redis client of the process is made from asynq's RedisFailoverClientOpt and
// asks the Sentinels for the master, so a failover moves them all to the new one.
type redisTarget struct {
	url      string
	failover *asynq.RedisFailoverClientOpt
}

// sentinelURLForm is the redis-sentinel URL's documented form.
const sentinelURLForm = "redis-sentinel://[[user]:password@]host:port[,host:port…][/db]?master=NAME[&sentinel_password=P]"

// parseRedis reads REDIS_URL, or REDIS_SENTINELS ("host:port,host:port,…") with REDIS_MASTER,
// which spell redis-sentinel://SENTINELS/0?master=MASTER; urlSet tells whether REDIS_URL was
// given rather than defaulted, so the two ways are not mixed.
func parseRedis(rawURL string, urlSet bool, sentinels, master string) (redisTarget, error) {
	if sentinels != "" || master != "" {
		if sentinels == "" || master == "" {
			return redisTarget{}, fmt.Errorf("REDIS_SENTINELS and REDIS_MASTER: set both (or neither and use REDIS_URL)")
		}
		if urlSet {
			return redisTarget{}, fmt.Errorf("REDIS_SENTINELS: set it or REDIS_URL, not both")
		}
		rawURL = "redis-sentinel://" + sentinels + "/0?master=" + url.QueryEscape(master)
	}
	if strings.HasPrefix(rawURL, "redis-sentinel://") {
		opt, err := parseSentinelURL(rawURL)
		if err != nil {
			return redisTarget{}, fmt.Errorf("REDIS_URL %q: %w; want %s", redact(rawURL), err, sentinelURLForm)
		}
		return redisTarget{url: rawURL, failover: opt}, nil
	}
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return redisTarget{}, fmt.Errorf("REDIS_URL %q: want redis://host:port/db, rediss://… or %s", redact(rawURL), sentinelURLForm)
	} else if _, err := redisDB(u.Path); err != nil {
		return redisTarget{}, fmt.Errorf("REDIS_URL %q: %w", redact(rawURL), err)
	}
	return redisTarget{url: rawURL}, nil
}

// redisDB reads the database of a Redis URL's path ("/3"; none is 0): a number from 0 to 15,
// the databases a Redis server has unless its configuration says more, so that a database the
// server does not have fails at start rather than at the first job.
func redisDB(path string) (int, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		return 0, nil
	}
	db, err := strconv.Atoi(path)
	if err != nil || db < 0 || db > 15 {
		return 0, fmt.Errorf("database %q is not a number from 0 to 15", path)
	}
	return db, nil
}

func parseSentinelURL(raw string) (*asynq.RedisFailoverClientOpt, error) {
	rest := strings.TrimPrefix(raw, "redis-sentinel://")
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	opt := &asynq.RedisFailoverClientOpt{}
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		user, err := url.Parse("redis://" + hosts[:at+1] + "x")
		if err != nil {
			return nil, fmt.Errorf("bad user or password")
		}
		opt.Username = user.User.Username()
		opt.Password, _ = user.User.Password()
		hosts = hosts[at+1:]
	}
	for _, h := range strings.Split(hosts, ",") {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, fmt.Errorf("sentinel %q is not host:port", h)
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, h)
	}
	db, err := redisDB(path)
	if err != nil {
		return nil, err
	}
	opt.DB = db
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("bad query: %w", err)
	}
	for k := range q {
		if k != "master" && k != "sentinel_password" {
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
	}
	if opt.MasterName = q.Get("master"); opt.MasterName == "" {
		return nil, fmt.Errorf("no master name")
	}
	opt.SentinelPassword = q.Get("sentinel_password")
	return opt, nil
}

// redact hides a password in a URL shown in an error.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
			return u.String()
		}
	}
	return raw
}

// connect builds the process's Redis client, shared by the readiness check, the worker's asynq
// server, the relay and the metrics, with at least poolSize connections; and the option from
// which asynqmon makes its own. With Sentinel both follow the master through a failover.
func (r redisTarget) connect(poolSize int) (*redis.Client, asynq.RedisConnOpt, error) {
	const dial, read, write = 2 * time.Second, 3 * time.Second, 3 * time.Second
	if r.failover != nil {
		opt := *r.failover
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolSize = dial, read, write, poolSize
		return opt.MakeRedisClient().(*redis.Client), opt, nil
	}
	opt, err := redis.ParseURL(r.url)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = dial, read, write
	opt.PoolSize = max(opt.PoolSize, poolSize)
	monitor, err := asynq.ParseRedisURI(r.url)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(opt), monitor, nil
}
