wit_bindgen::generate!({ world: "prober", path: "wit" });

use exports::wcomp::sandbox::probe::Guest;

struct Component;

impl Guest for Component {
    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(|err| err.to_string())
    }

    fn write_file(path: String, contents: String) -> Result<(), String> {
        std::fs::write(&path, contents).map_err(|err| err.to_string())
    }

    fn get_env(key: String) -> Option<String> {
        std::env::var(&key).ok()
    }

    fn env_count() -> u32 {
        std::env::vars().count() as u32
    }

    fn connect(addr: String) -> Result<(), String> {
        std::net::TcpStream::connect(&addr)
            .map(drop)
            .map_err(|err| err.to_string())
    }

    fn lookup(host: String) -> Result<u32, String> {
        use std::net::ToSocketAddrs;
        (host.as_str(), 80)
            .to_socket_addrs()
            .map(|addrs| addrs.count() as u32)
            .map_err(|err| err.to_string())
    }

    fn allocate(mib: u32) -> u32 {
        let mut held: Vec<Vec<u8>> = Vec::new();
        for _ in 0..mib {
            held.push(vec![1u8; 1 << 20]);
        }
        std::hint::black_box(&held);
        held.len() as u32
    }

    fn sleep(ms: u32) {
        std::thread::sleep(std::time::Duration::from_millis(ms.into()));
    }

    fn spin() -> u64 {
        let mut count = 0u64;
        loop {
            count = std::hint::black_box(count.wrapping_add(1));
            if count == u64::MAX {
                return count;
            }
        }
    }
}

export!(Component);
