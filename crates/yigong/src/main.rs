//! `yigong`: the composition root. Reads the configuration, opens the database, wires the
//! application and runs one command: `demo`, `serve`, `migrate`, `synth`, `print-config`.
#![allow(clippy::print_stdout, reason = "a command-line program answers on stdout")]

mod accounts;
mod bench;
mod bench_dicom;
mod bench_fhir;
mod bench_reading;
mod bench_referral;
mod config;
mod dicom;
mod load;
mod mpi;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use yigong_app::Ctx;
use yigong_store::Db;

use crate::config::{Config, LogFormat, Overrides};

/// yigong (医共): the platform of a close-knit county medical consortium.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./yigong.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform on a synthetic county: on first run create the data folder, the
    /// database and the county, then serve.
    Demo {
        /// Data folder.
        #[arg(long = "data")]
        data_dir: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Residents of the synthetic county (first run only).
        #[arg(long)]
        residents: Option<u32>,
    },
    /// Serve an existing database (migrating it first).
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address of the DICOM service provider (C-ECHO, C-STORE); `""` for none.
        #[arg(long)]
        dicom_listen: Option<String>,
        /// Database URL (`sqlite:PATH` or `postgres://…`).
        #[arg(long)]
        database: Option<String>,
        /// Data folder (holds the SQLite database when no URL is given).
        #[arg(long = "data")]
        data_dir: Option<PathBuf>,
    },
    /// Apply pending schema migrations.
    Migrate {
        /// Database URL.
        #[arg(long)]
        database: Option<String>,
        /// Data folder.
        #[arg(long = "data")]
        data_dir: Option<PathBuf>,
    },
    /// Generate the synthetic county into a database.
    Synth {
        /// Database URL.
        #[arg(long)]
        database: Option<String>,
        /// Data folder.
        #[arg(long = "data")]
        data_dir: Option<PathBuf>,
        /// Number of residents.
        #[arg(long)]
        residents: Option<u32>,
        /// Generator seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Skip the year of clinical records (registry, patient index, referrals and reading only).
        #[arg(long)]
        without_clinical_year: bool,
    },
    /// Print the effective configuration (secrets redacted).
    PrintConfig,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check or seal the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Master patient index: bulk import of patient lists, export of the links.
    #[command(subcommand)]
    Mpi(MpiCommand),
    /// DICOM nodes allowed to store images over DIMSE.
    #[command(subcommand)]
    Dicom(DicomCommand),
    /// Measure the figures of BENCHMARKS.md on a synthetic county (generated first if the
    /// database is empty).
    Bench {
        #[command(flatten)]
        db: DbArgs,
        /// Residents, when the county is generated.
        #[arg(long)]
        residents: Option<u32>,
        /// Requests per figure.
        #[arg(long, default_value_t = 2000)]
        iterations: usize,
        /// Only the referral figures (worklist and metrics at 10× volume).
        #[arg(long)]
        referrals_only: bool,
        /// Only the reading-centre figures (worklists and metrics at 10× volume).
        #[arg(long, conflicts_with = "referrals_only")]
        reading_only: bool,
    },
    /// Load-test any FHIR R4 server over HTTP: create, read, search by identifier and
    /// 20-entry transaction Bundles, with concurrent clients; a Markdown row per phase.
    BenchFhir(bench_fhir::FhirBenchArgs),
    /// Load any DICOM archive (this one or another) with C-STORE over parallel associations,
    /// STOW-RS with parallel clients and QIDO-RS searches; a Markdown row per figure.
    BenchDicom(bench_dicom::DicomBenchArgs),
}

/// Where a command finds its database.
#[derive(Debug, Clone, clap::Args)]
struct DbArgs {
    /// Database URL.
    #[arg(long)]
    database: Option<String>,
    /// Data folder.
    #[arg(long = "data")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account with one role; the password is read from standard input.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role: village_doctor, township_doctor, county_specialist, reader, referral_coordinator,
        /// pharmacist, consortium_manager, health_bureau, institution_admin, system_admin.
        #[arg(long)]
        role: String,
        /// Code of the acting institution.
        #[arg(long)]
        institution: Option<String>,
        /// Name shown in the UI (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Consortium id, when the database holds several.
        #[arg(long)]
        consortium: Option<uuid::Uuid>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give an existing account another role, e.g. at a second institution it works at.
    Grant {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role identifier.
        #[arg(long)]
        role: String,
        /// Code of the acting institution.
        #[arg(long)]
        institution: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum MpiCommand {
    /// Load one source's patient list (CSV, UTF-8 or GB18030) through a mapping file, then
    /// match across everything loaded. Re-importing the same file changes nothing.
    Import {
        /// Name of the source system (e.g. the facility's code).
        #[arg(long)]
        source: String,
        /// Mapping file (TOML): encoding, id_column and `[fields]` MPI field = column(s).
        #[arg(long)]
        mapping: PathBuf,
        /// Column with the source's patient id (overrides the mapping's id_column).
        #[arg(long)]
        id_column: Option<String>,
        /// Matching configuration (TOML) to use from now on (default: the stored one, or the
        /// shipped configuration for Chinese demographics).
        #[arg(long = "matching")]
        matching: Option<PathBuf>,
        /// Write rejected rows and their reasons to this CSV file.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Consortium id, when the database holds several.
        #[arg(long)]
        consortium: Option<uuid::Uuid>,
        /// County code of the consortium created when the database has none.
        #[arg(long, default_value = "990121")]
        county: String,
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print `id_1,id_2` for every pair of source records linked to one person automatically.
    ExportLinks {
        /// Only records of these sources (repeat the option for several).
        #[arg(long)]
        source: Vec<String>,
        /// Consortium id, when the database holds several.
        #[arg(long)]
        consortium: Option<uuid::Uuid>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum DicomCommand {
    /// Register a node (a modality, a site's gateway) by its AE title, for an institution.
    NodeAdd {
        /// The node's AE title (its calling AE title).
        #[arg(long)]
        ae: String,
        /// Code of the institution its images come from.
        #[arg(long)]
        institution: String,
        /// What it is (e.g. "乡镇卫生院 DR").
        #[arg(long, default_value = "")]
        description: String,
        /// Consortium id, when the database holds several.
        #[arg(long)]
        consortium: Option<uuid::Uuid>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Seal pending rows, then check every chain and name the first broken row.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Seal pending rows into the chain.
    Seal {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Archive rows older than `audit.retention_months` to a CSV file, then delete them (the
    /// chain stays verifiable; the pruning is itself audited).
    Prune {
        /// The archive file to create (must not exist).
        #[arg(long)]
        archive: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => exit_with(anyhow::anyhow!(e).context("start the async runtime")),
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        exit_with(e);
    }
}

/// Stops with a one-line cause instead of a panic trace.
fn exit_with(e: anyhow::Error) -> ! {
    eprintln!("yigong: {e:#}");
    std::process::exit(1)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = match &cli.command {
        Command::Demo { data_dir, listen, residents } => Overrides {
            data_dir: data_dir.clone(),
            listen: *listen,
            residents: *residents,
            ..Default::default()
        },
        Command::Serve { listen, dicom_listen, database, data_dir } => Overrides {
            data_dir: data_dir.clone(),
            database_url: database.clone(),
            listen: *listen,
            dicom_listen: dicom_listen.clone(),
            ..Default::default()
        },
        Command::Migrate { database, data_dir } => {
            Overrides { data_dir: data_dir.clone(), database_url: database.clone(), ..Default::default() }
        }
        Command::Synth { database, data_dir, residents, seed, without_clinical_year } => Overrides {
            data_dir: data_dir.clone(),
            database_url: database.clone(),
            residents: *residents,
            seed: *seed,
            without_clinical_year: *without_clinical_year,
            ..Default::default()
        },
        Command::PrintConfig | Command::BenchFhir(_) | Command::BenchDicom(_) => Overrides::default(),
        Command::User(UserCommand::Add { db, .. } | UserCommand::Grant { db, .. })
        | Command::Mpi(MpiCommand::Import { db, .. } | MpiCommand::ExportLinks { db, .. })
        | Command::Dicom(DicomCommand::NodeAdd { db, .. })
        | Command::Audit(
            AuditCommand::Verify { db } | AuditCommand::Seal { db } | AuditCommand::Prune { db, .. },
        ) => Overrides {
            data_dir: db.data_dir.clone(),
            database_url: db.database.clone(),
            ..Default::default()
        },
        Command::Bench { db, residents, .. } => Overrides {
            data_dir: db.data_dir.clone(),
            database_url: db.database.clone(),
            residents: *residents,
            ..Default::default()
        },
    };
    let config = Config::load(cli.config.as_deref(), Config::env(), &overrides)?;
    init_logging(&config);
    match cli.command {
        Command::PrintConfig => {
            print!("{}", config.to_redacted_toml()?);
            Ok(())
        }
        Command::Migrate { .. } => {
            let db = open(&config).await?;
            let names = db.migration_names();
            println!("database is at migration {}", names.last().map_or("(none)", String::as_str));
            Ok(())
        }
        Command::Synth { .. } => {
            let ctx = context(open(&config).await?, &config)?;
            anyhow::ensure!(
                yigong_app::seed::is_empty(&ctx).await?,
                "the database already holds a consortium; synth fills an empty database"
            );
            load::synthetic_county(&ctx, &config).await.map(drop)
        }
        Command::User(UserCommand::Add { username, role, institution, display_name, consortium, .. }) => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let ctx = context(open(&config).await?, &config)?;
            let consortium = consortium.map(yigong_domain::ids::ConsortiumId::from_uuid);
            let done = accounts::add_user(
                &ctx,
                consortium,
                &username,
                &role,
                institution.as_deref(),
                display_name.as_deref(),
                password,
            )
            .await?;
            println!("{done}");
            Ok(())
        }
        Command::User(UserCommand::Grant { username, role, institution, .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            println!("{}", accounts::grant(&ctx, &username, &role, institution.as_deref()).await?);
            Ok(())
        }
        Command::Mpi(MpiCommand::Import {
            source,
            mapping,
            id_column,
            matching,
            rejects,
            consortium,
            county,
            file,
            ..
        }) => {
            let ctx = context(open(&config).await?, &config)?;
            let consortium = mpi::consortium(&ctx, consortium, &county).await?;
            mpi::import(
                &ctx,
                consortium,
                mpi::ImportArgs {
                    source: &source,
                    mapping: &mapping,
                    id_column: id_column.as_deref(),
                    matching: matching.as_deref(),
                    rejects: rejects.as_deref(),
                    file: &file,
                },
            )
            .await
        }
        Command::Mpi(MpiCommand::ExportLinks { source, consortium, .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            let consortium = only_consortium(&ctx, consortium).await?;
            mpi::export_links(&ctx, consortium, &source).await
        }
        Command::Dicom(DicomCommand::NodeAdd { ae, institution, description, consortium, .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            let consortium = only_consortium(&ctx, consortium).await?;
            println!("{}", dicom::add_node(&ctx, consortium, &ae, &institution, &description).await?);
            Ok(())
        }
        Command::Bench { iterations, referrals_only, reading_only, .. } => {
            let ctx = context(open(&config).await?, &config)?;
            let only = if referrals_only {
                bench::Only::Referrals
            } else if reading_only {
                bench::Only::Reading
            } else {
                bench::Only::All
            };
            bench::run(&ctx, &config, iterations, only).await
        }
        Command::BenchFhir(args) => bench_fhir::command(args).await,
        Command::BenchDicom(args) => bench_dicom::command(args).await,
        Command::Audit(AuditCommand::Prune { archive, .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            let mut file =
                std::fs::OpenOptions::new().write(true).create_new(true).open(&archive).with_context(
                    || format!("create the archive {} (it must not exist yet)", archive.display()),
                )?;
            let consortium = yigong_app::registry::list_all_consortia(&ctx).await?.first().map(|c| c.id);
            let console = yigong_app::access::console(
                consortium.unwrap_or(yigong_domain::ids::ConsortiumId::from_uuid(uuid::Uuid::nil())),
            );
            let pruned = yigong_app::audit::prune(&ctx, &console, config.audit.retention_months, &mut file)
                .await
                .map_err(accounts::describe)?;
            file.sync_all().context("flush the archive to disk")?;
            for p in &pruned {
                println!(
                    "consortium {}: archived and pruned {} rows through seq {}",
                    p.consortium_id, p.rows, p.through_seq
                );
            }
            if pruned.is_empty() {
                println!("nothing older than {} months", config.audit.retention_months);
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Seal { .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            let n = yigong_app::audit::seal(&ctx).await?;
            println!("sealed {n} audit rows");
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { .. }) => {
            let ctx = context(open(&config).await?, &config)?;
            let reports = yigong_app::audit::verify(&ctx).await?;
            let mut broken = 0;
            for r in &reports {
                match &r.broken {
                    None => println!("consortium {}: {} rows, chain intact", r.consortium_id, r.rows),
                    Some(b) => {
                        broken += 1;
                        let row = b.audit_id.map_or_else(|| "missing".to_owned(), |id| id.to_string());
                        println!(
                            "consortium {}: chain BROKEN at seq {} (row {row}): {} — {} rows verified before it",
                            r.consortium_id, b.seq, b.problem, r.rows
                        );
                    }
                }
            }
            anyhow::ensure!(broken == 0, "audit trail verification failed in {broken} consortium chain(s)");
            Ok(())
        }
        Command::Serve { .. } => {
            let db = open(&config).await?;
            serve(context(db, &config)?, &config, false).await
        }
        Command::Demo { .. } => demo(config).await,
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Opens and migrates the configured database.
async fn open(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.storage.data_dir)
            .with_context(|| format!("create data folder {}", config.storage.data_dir.display()))?;
    }
    let shown = config::redact_url(&url);
    let db = Db::connect(&url).await.with_context(|| format!("open database {shown}"))?;
    db.migrate().await.with_context(|| format!("migrate database {shown}"))?;
    Ok(db)
}

/// The platform's context: the database, and the report-signing key kept in the data folder
/// (made there on first use).
fn context(db: Db, config: &Config) -> anyhow::Result<Ctx> {
    let mut ctx = Ctx::new(db);
    ctx.objects =
        std::sync::Arc::new(yigong_app::imaging::Objects::new(config.storage.data_dir.join("dicom")));
    let key = config.storage.data_dir.join("keys").join("report-sm2.key");
    ctx.signer = std::sync::Arc::new(
        yigong_app::reading::sign::ReportSigner::load_or_create(&key)
            .with_context(|| format!("report signing key {}", key.display()))?,
    );
    Ok(ctx)
}

/// First run: generate the county into a fresh SQLite file; later runs serve it.
async fn demo(config: Config) -> anyhow::Result<()> {
    let data = &config.storage.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("create data folder {}", data.display()))?;
    let done_marker = data.join("county-generated");
    if !done_marker.exists() && config.storage_is_embedded() {
        // A generation that was interrupted leaves a partial county: start it again.
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", config.sqlite_path().display()));
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| format!("remove partial {}", file.display()))?;
            }
        }
    }
    let ctx = context(open(&config).await?, &config)?;
    if !done_marker.exists() {
        println!("首次运行：正在生成合成县域（青岚县）… / first run: generating the synthetic county…");
        let org = load::synthetic_county(&ctx, &config).await?;
        let accounts = accounts::create_demo_accounts(&ctx, &org, data).await?;
        std::fs::write(&done_marker, "generated\n").context("record that the county is generated")?;
        println!();
        println!(
            "演示账号（密码只显示这一次，另存于 {}）/ demo accounts (passwords shown once, kept in that file):",
            data.join(accounts::DEMO_ACCOUNTS_FILE).display()
        );
        print!("{accounts}");
    } else {
        println!("演示账号见 / demo accounts are in {}", data.join(accounts::DEMO_ACCOUNTS_FILE).display());
    }
    serve(ctx, &config, true).await
}

/// The consortium a command acts on: the one named, or the database's only one.
async fn only_consortium(
    ctx: &Ctx,
    named: Option<uuid::Uuid>,
) -> anyhow::Result<yigong_domain::ids::ConsortiumId> {
    if let Some(id) = named {
        return Ok(yigong_domain::ids::ConsortiumId::from_uuid(id));
    }
    let all = yigong_app::registry::list_all_consortia(ctx).await?;
    match all.as_slice() {
        [only] => Ok(only.id),
        [] => anyhow::bail!("the database holds no consortium"),
        _ => anyhow::bail!("this database holds {} consortia: choose one with --consortium", all.len()),
    }
}

async fn serve(mut ctx: Ctx, config: &Config, demo: bool) -> anyhow::Result<()> {
    let server = &config.server;
    let listen = server.listen;
    ctx.fhir_max_body = server.fhir_max_body_bytes;
    ctx.referral = std::sync::Arc::new(config.referral.settings());
    ctx.objects =
        std::sync::Arc::new(yigong_app::imaging::Objects::new(config.storage.data_dir.join("dicom")));
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listen on {listen}"))?;
    let addr = listener.local_addr().context("read the bound address")?;
    let consortia = yigong_app::registry::list_all_consortia(&ctx).await?;
    println!();
    println!("yigong 医共 已启动：请用浏览器打开 http://{addr}/ 并用演示账号登录");
    println!("yigong is serving: open http://{addr}/ in a browser and log in with a demo account");
    println!("  API: http://{addr}/api/docs   (OpenAPI 3.1: http://{addr}/api/openapi.json)");
    for c in &consortia {
        println!("  consortium {} ({}), id {}", c.name, c.county_code.as_str(), c.id);
    }
    if demo {
        println!("  data folder: {}", config.storage.data_dir.display());
    }
    // The DICOM service provider, for the first consortium (its registered nodes may store).
    let scp = match (config.dicom.listen.is_empty(), consortia.first()) {
        (false, Some(c)) => {
            let at: SocketAddr = config.dicom.listen.parse().context("dicom.listen")?;
            let dicom = tokio::net::TcpListener::bind(at).await.with_context(|| {
                format!("listen for DICOM on {at} (set dicom.listen, or --dicom-listen \"\")")
            })?;
            println!(
                "  DICOM: AE {} at {} (C-ECHO, C-STORE); DICOMweb: http://{addr}/dicomweb",
                config.dicom.ae_title, at
            );
            let scp_config = yigong_dicom::scp::ScpConfig {
                ae_title: config.dicom.ae_title.trim().to_owned(),
                max_pdu: config.dicom.max_pdu,
                ..Default::default()
            };
            Some(dicom::spawn(ctx.clone(), c.id, dicom, scp_config))
        }
        _ => None,
    };
    println!("Press Ctrl+C to stop.");
    tracing::info!(%addr, "serving");
    // Seal the audit trail continuously, so the chain trails the writes by seconds.
    let sealer_ctx = ctx.clone();
    let sealer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            if let Err(e) = yigong_app::audit::seal(&sealer_ctx).await {
                tracing::warn!(error = %e, "audit sealing failed; will retry");
            }
        }
    });
    // Referral timers (expiry, no-show), reminders of what is late (escalations, unacknowledged green
    // pages, overdue follow-ups) and the outbound channel of notifications, every minute.
    let timer_ctx = ctx.clone();
    let timers = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let consortia = match yigong_app::registry::list_all_consortia(&timer_ctx).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "referral timers: cannot list consortia; will retry");
                    continue;
                }
            };
            for c in consortia {
                if let Err(e) = yigong_app::referral::run_timers(&timer_ctx, c.id).await {
                    tracing::warn!(error = %e, consortium = %c.id, "referral timers failed; will retry");
                }
                if let Err(e) = yigong_app::reading::run_timers(&timer_ctx, c.id).await {
                    tracing::warn!(error = %e, consortium = %c.id, "reading timers failed; will retry");
                }
                if let Err(e) = yigong_app::referral::announce(&timer_ctx, c.id).await {
                    tracing::warn!(error = %e, consortium = %c.id, "referral reminders failed; will retry");
                }
                if let Err(e) = yigong_app::referral::deliver_pending(&timer_ctx, c.id).await {
                    tracing::warn!(error = %e, consortium = %c.id, "notification delivery failed; will retry");
                }
            }
        }
    });
    let app = yigong_http::app(ctx.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serve HTTP")?;
    timers.abort();
    sealer.abort();
    if let Some(scp) = scp {
        scp.abort();
    }
    let _ = yigong_app::audit::seal(&ctx).await;
    ctx.db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
