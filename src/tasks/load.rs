//! Choosing the task of a command and reading its input (`--task`, or detection).

use super::input::{read, TaskColumns, TaskInput};
use super::{detect, Task};
use crate::cli::InputArgs;
use crate::error::{Error, Result};
use crate::ingest::{IngestOptions, Loaded};

/// The input of a command, by task.
pub enum TaskLoad {
    /// A classification input, read by the ordinary readers.
    Classification(IngestOptions, Box<Loaded>),
    /// An AI-feedback task input.
    Feedback {
        task: Task,
        /// Whether the task was detected from the labels.
        detected: bool,
        input: TaskInput,
        options: IngestOptions,
    },
}

/// Read the input for the task given with `--task`, or detect it (preference and ranking
/// labels, free text) from a classification read.
pub fn load(args: &InputArgs) -> Result<TaskLoad> {
    let cols = TaskColumns {
        item: args.item_col.clone(),
        annotator: args.annotator_col.clone(),
        label: args.label_col.clone(),
    };
    let feedback = |task: Task, detected: bool, options: IngestOptions| -> Result<TaskLoad> {
        if args.gold.is_some() || args.gold_col.is_some() {
            return Err(Error::Usage(format!(
                "--gold / --gold-col are not supported for {} tasks",
                task.name()
            )));
        }
        Ok(TaskLoad::Feedback {
            task,
            detected,
            input: read(&args.files, task, &cols)?,
            options,
        })
    };
    // Classification batches must fit the label × label tables of the analyses.
    let classification = |options: IngestOptions, loaded: Loaded| -> Result<TaskLoad> {
        crate::run::check_label_count(&loaded)?;
        Ok(TaskLoad::Classification(options, Box::new(loaded)))
    };
    match args.task {
        Some(Task::Classification) => {
            let (o, l) = crate::run::load_input(args)?;
            classification(o, l)
        }
        Some(task) => feedback(task, false, args.ingest_options()?),
        None => {
            let (o, l) = crate::run::load_input(args)?;
            match detect(&l.dataset.labels, l.dataset.n_annotations()) {
                Task::Classification => classification(o, l),
                task => feedback(task, true, o),
            }
        }
    }
}
